"""Publish a release: files built in a temporary folder, checksums verified, then ``latest`` swapped.

``published/releases/<release_id>/`` is complete before it gets its final name, and ``published/latest``
is a symlink replaced with one ``rename``: a reader that resolves ``latest`` once sees the old release or
the new one, never a mix, and a publisher killed mid-way leaves only a ``.tmp-*`` folder the next publish
removes. The formats are written by ``warehouse.exporters``: every meeting, then each region's.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

import transforms
from foundation.paths import UnsafePath, component, inside
from foundation.settings import Settings
from foundation.versions import files_digest
from transforms.regions import Region, SourceLabels, assign
from transforms.resolve import MEETING_FIELDS
from warehouse import release_store
from warehouse.exporters import changes, directory, hsds, meeting_guide, page, region_index, tables, verification
from warehouse.exporters.common import LABELS_TABLE, RELEASE_TABLE, Scope, file_entry, sha256_file, target
from warehouse.release_db import write_release_duckdb

SCHEMA_VERSION = "3.0"
"""1.1: adds ``venue_id``, ``regions``, ``last_verified``, ``updated_at``; Meeting Guide, HSDS, GeoJSON,
CHANGES.json and the release page.
2.0: nothing invented: ``end_time`` and ``duration_min`` are null when the source gave neither an end nor a
duration (``end_time_source``: source | duration | none), Meeting Guide ``updated`` is the source's own stamp;
adds ``frequency``/``weeks_of_month`` (monthly meetings), ``coordinates_source``, ``unparsed_address``,
``source_regions``, ``group_notes``, ``district``, ``website``, ``conference_url_notes``,
``conference_phone_notes``, ``entity``/``entity_url``/``entity_email``/``entity_phone``/``entity_location``,
``feedback_url``; ``timezone_source`` gains ``city`` and ``state``; floor/room details move from
``address_line`` to ``location_notes``. Major: a consumer that relied on a non-null end time must now apply
its own default.
2.1: regions from the data (every state present, ``online``) as well as ``regions/*.yaml``; adds
``region_evidence`` (coordinates | postal_code | city | source_region | state: what located the meeting) and
``coordinates_conflict`` (the source's coordinates contradict its address: the ZIP centroid or nothing is
published instead, precision ``postal`` or ``none``); Meeting Guide ``region``/``sub_region``/``regions`` are
the meeting's place in each feed's hierarchy.
3.0: content-stable releases. ``last_seen`` and ``last_verified`` leave ``meetings.{parquet,csv,geojson}`` for
``verification.parquet`` (meeting_id, last_seen, last_verified); the release DuckDB's ``meetings`` view joins
them back (its table ``meeting_fields`` is meetings.parquet); HSDS ``assured_date`` is no longer written. A
region publishes its Meeting Guide feed and ``regions/<region>/index.json``; its own Parquet, CSV, GeoJSON
and HSDS copies only when the operator opts in (``CLEARINGHOUSE_REGION_FORMATS``): the national files carry
``regions``. Major: a consumer reading ``last_seen`` from meetings.parquet, or ``regions/<region>/meetings.*``,
must now read verification.parquet (or the DuckDB view) and filter the national files."""
PUBLISHED_COLUMNS = ["meeting_id", *MEETING_FIELDS, "sources", "venue_id", "regions", "region_evidence",
                     "coordinates_conflict", "first_seen", "updated_at"]  # fmt: skip
"""The columns of meetings.parquet and meetings.csv and the GeoJSON properties, in order (``RELEASE_SQL``).
``last_seen`` and ``last_verified`` move every night for every meeting: they are in ``verification.parquet``
(``warehouse.exporters.verification``), so the other files stay byte-identical when no meeting changed."""
FORMATS = (tables, meeting_guide, hsds)
"""Exporters of the whole release; a region gets its Meeting Guide feed and the formats the operator opts in to
(``CLEARINGHOUSE_REGION_FORMATS``), besides its small ``regions/<region>/index.json``."""
REGION_FORMATS = {"tables": tables, "hsds": hsds}
"""``CLEARINGHOUSE_REGION_FORMATS`` names → the exporters each region then gets besides its Meeting Guide feed."""

CONTRADICTED = {
    "latitude": "p.address_latitude",
    "longitude": "p.address_longitude",
    "geo_precision": "CASE WHEN p.address_latitude IS NULL THEN 'none' ELSE 'postal' END",
    "coordinates_source": "CASE WHEN p.address_latitude IS NULL THEN 'none' ELSE 'postal' END",
}
"""What a release publishes instead of coordinates that contradict the address (``transforms.regions``)."""
_FIELDS = ", ".join(
    f"CASE WHEN p.coordinates_conflict THEN {CONTRADICTED[f]} ELSE m.{f} END AS {f}" if f in CONTRADICTED
    else f"m.{f}" for f in MEETING_FIELDS
)  # fmt: skip
RELEASE_SQL = f"""
CREATE OR REPLACE TEMP TABLE {RELEASE_TABLE} AS
SELECT m.meeting_id, {_FIELDS}, m.sources, m.venue_id,
       coalesce(r.regions, []::VARCHAR[]) AS regions, p.region_evidence,
       coalesce(p.coordinates_conflict, false) AS coordinates_conflict, m.first_seen,
       coalesce(h.valid_from, m.first_seen) AS updated_at
FROM core.meetings m
LEFT JOIN (SELECT meeting_id, list(region_id ORDER BY region_id) AS regions FROM core.meeting_regions
           GROUP BY meeting_id) r USING (meeting_id)
LEFT JOIN core.meeting_places p USING (meeting_id)
LEFT JOIN (SELECT meeting_id, max(valid_from) AS valid_from FROM core.meeting_history WHERE valid_to IS NULL
           GROUP BY meeting_id) h USING (meeting_id)
WHERE m.status = 'active'
ORDER BY m.meeting_id
"""
"""Every published meeting with its regions and when its published fields last changed (``updated_at``)."""
LABELS_SQL = f"""
CREATE OR REPLACE TEMP TABLE {LABELS_TABLE} AS
SELECT meeting_id, '' AS scope, labels FROM core.meeting_places
UNION ALL
SELECT meeting_id, region_id, labels FROM core.meeting_regions
"""
"""Each meeting's place in each feed's hierarchy ('' = the whole release), for the Meeting Guide feeds."""


class ReleaseError(RuntimeError):
    pass


@dataclass(frozen=True)
class Release:
    release_id: str
    path: Path
    manifest: dict[str, Any]


def release_id_for(published: Path, run_id: str, run_started: datetime) -> str:
    """The run's start time; a re-run of the same run gets its own release back, another run a suffix."""
    base = run_started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        candidate = base if n == 1 else f"{base}-{n}"
        manifest = published / "releases" / candidate / "manifest.json"
        if not manifest.exists() or json.loads(manifest.read_text()).get("run_id") == run_id:
            return candidate
    raise ReleaseError(f"too many releases started at {base}")


def verify(release_dir: Path) -> dict[str, Any]:
    """Check every file the manifest lists against its size and checksum; return the manifest."""
    manifest = json.loads((release_dir / "manifest.json").read_text())
    for entry in manifest["files"]:
        path = release_dir / entry["path"]
        if not path.is_file() or path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            raise ReleaseError(f"{release_dir.name}: {entry['path']} does not match its manifest checksum")
    return manifest


def current_release(published: Path) -> Path | None:
    """The release ``latest`` points at (None before the first publish)."""
    link = published / "latest"
    return link.resolve() if link.exists() else None


def _point_latest(published: Path, release_dir: Path) -> None:
    link = published / "latest"
    tmp = published / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(Path("releases") / release_dir.name)
    os.replace(tmp, link)


def _remove_leftovers(published: Path) -> None:
    """Folders and links of publishers that died mid-way. Only one process writes the warehouse (and so
    publishes) at a time, so whatever is left is no one's."""
    for tmp in (published / "releases").glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
    for link in published.glob(".latest-*"):
        link.unlink(missing_ok=True)


def prune(published: Path, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` releases (never the one ``latest`` points at), then the shared files
    no kept release holds."""
    releases = sorted(p for p in (published / "releases").iterdir() if p.is_dir() and not p.name.startswith("."))
    current = current_release(published)
    removed = []
    for old in releases[:-keep] if keep > 0 else []:
        if old.resolve() != current:
            shutil.rmtree(old)
            removed.append(old.name)
    release_store.collect(published)
    return removed


def _drop_release_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name, kind in con.sql(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_catalog = 'temp' "
        "AND (starts_with(table_name, 'pub_') OR starts_with(table_name, 'hsds_'))"
    ).fetchall():
        con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS {name}")


@cache
def code_version() -> str:
    """A digest of what turns meetings into files (this module, the exporters, their reference data and the
    schema version): a scope's files are reused only when this and its rows are what they were."""
    here = Path(__file__).parent
    code = [here / "publish.py", *(here / "exporters").rglob("*.py"), *(here / "exporters").rglob("*.json"),
            *(Path(transforms.__file__).parent / "data").glob("*.csv")]  # fmt: skip
    return files_digest(SCHEMA_VERSION, code)


FINGERPRINT_SQL = f"""
SELECT '' AS scope, count(*) AS meetings, bit_xor(hash(m, l.labels)) AS digest FROM {RELEASE_TABLE} m
LEFT JOIN {LABELS_TABLE} l ON l.meeting_id = m.meeting_id AND l.scope = ''
UNION ALL
SELECT r.scope, count(*), bit_xor(hash(m, l.labels)) FROM {RELEASE_TABLE} m, unnest(m.regions) AS r(scope)
LEFT JOIN {LABELS_TABLE} l ON l.meeting_id = m.meeting_id AND l.scope = r.scope
GROUP BY r.scope
"""
"""Per scope ('' = the whole release): its meetings and a digest of their published rows and feed labels."""


def _fingerprints(con: duckdb.DuckDBPyConnection, extra: str) -> dict[str, str]:
    """Scope → what its files are made of (rows, labels, HSDS time zone offsets, the code, ``extra``)."""
    hsds.reference(con)
    zones = con.sql("SELECT bit_xor(hash(z)) FROM hsds_zones z").fetchall()[0][0]
    base = f"{code_version()}:{zones}:{extra}"
    return {scope: f"{n}:{digest}:{base}" for scope, n, digest in con.sql(FINGERPRINT_SQL).fetchall()}


def _reuse(previous: Path | None, old: dict[str, Any] | None, fingerprint: str, root: Path) -> list[dict] | None:
    """The previous release's files of a scope whose fingerprint did not change, linked into ``root``
    (None: write them)."""
    if previous is None or not old or old.get("fingerprint") != fingerprint:
        return None
    entries = old["files"]
    if not all((previous / e["path"]).is_file() for e in entries):
        return None
    for entry in entries:
        target(root, entry["path"]).unlink(missing_ok=True)
        try:
            os.link(previous / entry["path"], root / entry["path"])
        except OSError:
            shutil.copyfile(previous / entry["path"], root / entry["path"])
    return [dict(e) for e in entries]


def _previous_scopes(previous: Path | None) -> dict[str, Any]:
    manifest = previous / "manifest.json" if previous else None
    if manifest is None or not manifest.is_file():
        return {}
    return json.loads(manifest.read_text()).get("scopes") or {}


def _build(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    release_id: str,
    manifest_extra: dict[str, Any],
    regions: Sequence[Region],
    source_labels: SourceLabels | None,
    previous: Path | None,
    check: Callable[[Path], dict[str, Any]] | None,
    region_formats: Sequence[str],
) -> dict[str, Any]:
    """Write every format into ``root``, gate it, then the page and the manifest; return the manifest.

    A scope (the whole release or a region) whose meetings, labels and code are those of the previous release
    gets the previous release's files back (hard links), unwritten; its fingerprint is kept in the manifest.
    """
    assigned = assign(con, list(regions), source_labels)
    con.execute(RELEASE_SQL)
    con.execute(LABELS_SQL)
    regional = (meeting_guide, *(REGION_FORMATS[name] for name in region_formats))
    try:
        fingerprints = _fingerprints(con, ",".join(region_formats))
        before = _previous_scopes(previous)
        files: list[dict[str, Any]] = []
        scopes: dict[str, Any] = {}
        hsds_ready = False
        for scope in (Scope(), *(Scope(r.id, r.name) for r in assigned.regions)):
            key = scope.region or ""
            fingerprint = fingerprints.get(key, f"0::{code_version()}:{','.join(region_formats)}")
            written = _reuse(previous, before.get(key), fingerprint, root)
            if written is None:
                scope.select(con)
                written = []
                for exporter in FORMATS if scope.region is None else regional:
                    if exporter is hsds and not hsds_ready:
                        hsds.prepare(con)
                        hsds_ready = True
                    written += exporter.write(con, scope, root)
                if scope.region is not None:
                    written += region_index.write(con, scope, root, written)
            scopes[key] = {"fingerprint": fingerprint, "files": written}
            files += written
        files += verification.write(con, root)
        entries, changed = changes.write(con, root, release_id, previous)
        files += entries
        files += directory.write(con, root)
        # Analysts query this file while the nightly run holds the warehouse's write lock.
        files.append(file_entry(root, write_release_duckdb(root, con), None))
        extra = {**manifest_extra, "quality": check(root)} if check else dict(manifest_extra)
        manifest = {
            "release_id": release_id,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "schema_version": SCHEMA_VERSION,
            **extra,
            "counts": {
                **extra.get("counts", {}),
                "meetings": con.sql(f"SELECT count(*) FROM {RELEASE_TABLE}").fetchall()[0][0],
                "regions": assigned.counts,
                "region_evidence": assigned.evidence,
                "unplaced": assigned.unplaced,
                "coordinates_conflicts": assigned.conflicts,
                "changes": changed,
                **directory.counts(con),
            },
            "region_formats": list(region_formats),
        }
        files += page.write(con, root, release_id, [(r.id, r.name) for r in assigned.regions], files, manifest)
    finally:
        _drop_release_tables(con)
    manifest["files"] = files
    manifest["scopes"] = scopes
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False, default=str))
    return manifest


def publish(
    con: duckdb.DuckDBPyConnection,
    published: Path,
    release_id: str,
    manifest_extra: dict[str, Any],
    keep: int = Settings.keep_releases,
    check: Callable[[Path], dict[str, Any]] | None = None,
    regions: Sequence[Region] = (),
    source_labels: SourceLabels | None = None,
    region_formats: Sequence[str] = (),
) -> Release:
    """Build, verify and swap in a release. Re-publishing an existing release id only repoints ``latest``.

    Every region — the automatic ones (each state present, ``online``) and the operator's ``regions`` — is
    assigned to the meetings (``transforms.regions.assign``, with the operator's ``source_labels``) and gets
    its Meeting Guide feed and index, plus the ``region_formats`` the operator opted in to
    (``CLEARINGHOUSE_REGION_FORMATS``). Every file is then shared with the releases that hold the same bytes
    (``warehouse.release_store``).
    ``check`` (the release quality gate) sees every data file before the release gets its final name; what it
    returns becomes ``manifest["quality"]``. When it raises, the files are removed and ``latest`` stays.
    """
    releases = published / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    final = releases / release_id
    if final.exists():
        manifest = verify(final)
    else:
        _remove_leftovers(published)
        tmp = releases / f".tmp-{release_id}-{os.getpid()}"
        tmp.mkdir()
        try:
            manifest = _build(con, tmp, release_id, manifest_extra, regions, source_labels,
                              current_release(published), check, region_formats)  # fmt: skip
            verify(tmp)
            release_store.share(published, tmp, manifest["files"])
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        os.replace(tmp, final)
    _point_latest(published, final)
    prune(published, keep)
    return Release(release_id=release_id, path=final, manifest=manifest)


def rollback(published: Path, release_id: str) -> Release:
    """Point ``latest`` back at an earlier release, after checking every file of it against its manifest."""
    try:
        target = inside(published / "releases", component(release_id, "release id"))
    except UnsafePath as exc:
        raise ReleaseError(str(exc)) from None
    if not (target / "manifest.json").is_file():
        kept = sorted(p.name for p in (published / "releases").glob("[!.]*") if p.is_dir())
        raise ReleaseError(f"no release {release_id!r} in {published / 'releases'}; kept: {', '.join(kept) or 'none'}")
    manifest = verify(target)
    _point_latest(published, target)
    return Release(release_id=release_id, path=target, manifest=manifest)
