"""Fetch one source: polite requests through the family's plan, archive every body, parse, hand off.

A fetch never touches the warehouse: it writes raw files and a records file, and returns its
``FetchRecord`` (small, JSON) for the single loader. Whatever happens, the attempt is recorded.
"""

from __future__ import annotations

import logging
import multiprocessing
import statistics
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from extractors.archive import Archive, FetchRecord, PartRecord, snapshot_hash
from extractors.families import family_module
from extractors.http import PoliteClient, redact, redact_body
from extractors.records import (
    OffScopeLink,
    ParseError,
    Snapshot,
    SnapshotPart,
    SourceError,
    SourceRecord,
    to_arrow,
)
from foundation import ids
from foundation.settings import Settings
from foundation.source import Source

log = logging.getLogger("clearinghouse.fetch")
COUNT_HISTORY = 7
"""Record counts kept per source for the volume guard's trailing median."""


class TooFewRecords(SourceError):
    reason_code = "too_few_records"


def _options(source: Source) -> dict[str, Any]:
    return source.model_dump(exclude={"auth"})


def _make_getter(source: Source, record: FetchRecord, archive: Archive, client: PoliteClient, state: dict[str, Any]):
    """The ``get`` a family fetches through: scoped, keyed, conditional, archived.

    A part keeps the URL the family asked for (the key the client adds is not part of it), so a detail page
    is found again by the link that named it, and the next fetch finds its validators."""
    previous = {p["url"]: p for p in state.get("parts", [])}
    expect = getattr(family_module(source), "EXPECT", "any")
    day = record.started_at[:10]
    scope = source.scope

    def get(name: str, url: str) -> SnapshotPart:
        shown = redact(url, source.secret)
        prior = previous.get(shown)
        prior_file = archive.path(prior["path"]) if prior is not None else None
        usable = prior_file is not None and prior_file.exists()
        try:
            response = client.get(
                url,
                source_id=source.id,
                expect=expect,
                etag=prior.get("etag") if usable else None,
                last_modified=prior.get("last_modified") if usable else None,
                secret=source.secret,
                secret_param=source.auth_param,
                min_delay_s=source.min_delay_s,
                scope=scope,
            )
        except OffScopeLink:
            record.skipped_off_scope(shown)
            raise
        if response.not_modified and usable and prior_file is not None:
            body = prior_file.read_bytes()
            digest, path = prior["sha256"], prior["path"]
            content_type = prior.get("content_type", "")
        else:
            body, content_type = redact_body(response.body, source.secret), response.content_type
            digest, path = archive.store_body(source.id, day, body, content_type, url)
        record.parts.append(
            PartRecord(
                name=name,
                url=shown,
                status=response.status,
                sha256=digest,
                bytes=len(body),
                path=path,
                content_type=content_type,
                etag=response.etag or (prior or {}).get("etag"),
                last_modified=response.last_modified or (prior or {}).get("last_modified"),
                not_modified=response.not_modified,
                redirects=list(response.redirects),
            )
        )
        return SnapshotPart(name=name, url=shown, body=body, content_type=content_type)

    return get


def check_volume(source: Source, count: int, state: dict[str, Any]) -> str | None:
    """Raise when a source returns fewer records than it must; return a reason when it must be held."""
    if count < source.expected_min_records:
        raise TooFewRecords(
            source.id,
            f"parsed {count} records, expected at least {source.expected_min_records} "
            "(expected_min_records); the site may have changed or returned an empty list",
        )
    history = state.get("counts", [])
    if history:
        median = statistics.median(history)
        if count < median * (1 - source.max_drop_share):
            return (
                f"record count fell to {count} from a trailing median of {median:g} "
                f"(more than {source.max_drop_share:.0%}); previous records kept. If the drop is real, "
                "accept it with `clearinghouse sources accept " + source.id + "`"
            )
    return None


def parse_to_records_file(
    source: Source, fetch_id: str, started_at: str, parts: tuple[SnapshotPart, ...], path: Path
) -> int:
    """Parse a snapshot and write its records file; return the count.

    Bytes in, one parquet file out, nothing shared: any process can run it (``ParsePool``).
    """
    snapshot = Snapshot(
        source_id=source.id,
        fetch_id=fetch_id,
        fetched_at=datetime.fromisoformat(started_at),
        parts=parts,
        options=_options(source),
    )
    records: list[SourceRecord] = list(family_module(source).parse(snapshot))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(to_arrow(source.id, fetch_id, records), tmp)
    tmp.replace(path)
    return len(records)


SnapshotParser = Callable[[Source, str, str, tuple[SnapshotPart, ...], Path], int]
"""``parse_to_records_file`` or a ``ParsePool``: where a fetch's snapshot is parsed."""


class _ParseFailed(SourceError):
    """A parse that failed in a worker process, raised again in the fetching thread with the same outcome."""

    def __init__(self, reason_code: str, message: str):
        Exception.__init__(self, message)  # ``message`` is the worker's full text, source prefix included
        self.reason_code = reason_code


def _parse_in_worker(
    source: Source, fetch_id: str, started_at: str, parts: tuple[SnapshotPart, ...], path: Path
) -> int | tuple[str, str, str]:
    """``parse_to_records_file``, with a failure returned as (reason code, reason, traceback): exceptions that take
    a source id do not survive pickling."""
    try:
        return parse_to_records_file(source, fetch_id, started_at, parts, path)
    except SourceError as exc:
        return exc.reason_code, str(exc), ""
    except Exception as exc:  # a bug in a family must fail its source, not the run
        reason = f"{type(exc).__name__}: {exc}; this is a bug in the family, please report it"
        return "unexpected_error", reason, traceback.format_exc()


class ParsePool:
    """Parses snapshots in worker processes while threads fetch.

    Parsing is pure Python and threads share one core (the GIL): with the parse in ``workers`` processes,
    the fetch uses every core. A ``SnapshotParser``; close it after the fetch.
    """

    def __init__(self, workers: int):
        context = multiprocessing.get_context("forkserver")  # never fork a process that runs threads
        context.set_forkserver_preload(["extractors.fetch"])
        self._pool = ProcessPoolExecutor(workers, mp_context=context)

    def __call__(
        self, source: Source, fetch_id: str, started_at: str, parts: tuple[SnapshotPart, ...], path: Path
    ) -> int:
        outcome = self._pool.submit(_parse_in_worker, source, fetch_id, started_at, parts, path).result()
        if isinstance(outcome, int):
            return outcome
        reason_code, reason, trace = outcome
        if trace:
            log.error("source %s: unexpected error\n%s", source.id, trace)
        raise _ParseFailed(reason_code, reason)

    def close(self) -> None:
        self._pool.shutdown()


def _parse_into_archive(
    source: Source, record: FetchRecord, parts: list[SnapshotPart], archive: Archive, parse: SnapshotParser
) -> int:
    path = archive.records_path(record)
    record.records = parse(source, record.fetch_id, record.started_at, tuple(parts), path)
    record.records_path = str(path.relative_to(archive.root))
    return record.records


def _accept(source: Source, record: FetchRecord, archive: Archive, state: dict[str, Any]) -> None:
    counts = [*state.get("counts", []), record.records][-COUNT_HISTORY:]
    archive.write_state(
        source.id,
        {
            "fetch_id": record.fetch_id,
            "fetched_at": record.started_at,
            "snapshot_sha256": record.snapshot_sha256,
            "records": record.records,
            "records_path": record.records_path,
            "parts": [vars(p) for p in record.parts],
            "counts": counts,
        },
    )


def _validators(parts: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    return [(p["url"], p.get("etag"), p.get("last_modified")) for p in parts]


def _keep_validators(source: Source, record: FetchRecord, archive: Archive, state: dict[str, Any]) -> None:
    """The same bytes came under other validators — the feed moved to another URL, or its server gave a new
    ETag: keep them, or every later night downloads the whole feed again instead of asking conditionally. A
    304 changes nothing, so a quiet night writes no state."""
    parts = [vars(p) for p in record.parts]
    if _validators(parts) != _validators(state.get("parts", [])):
        archive.write_state(source.id, {**state, "parts": parts})


def _run(
    source: Source,
    record: FetchRecord,
    archive: Archive,
    state: dict[str, Any],
    produce,
    force_parse: bool = False,
    parse: SnapshotParser = parse_to_records_file,
) -> FetchRecord:
    """Shared by fetch and replay: get the parts, skip unchanged bytes, parse, guard volume, record."""
    try:
        parts = produce()
        record.snapshot_sha256 = snapshot_hash(record.parts)
        if (
            not force_parse
            and state.get("snapshot_sha256") == record.snapshot_sha256
            and state.get("records_path")
            and archive.has(state["records_path"])
        ):
            record.status, record.records, record.records_path = (
                "unchanged",
                state["records"],
                state["records_path"],
            )
            record.data_fetch_id = state["fetch_id"]
            _keep_validators(source, record, archive, state)
        else:
            count = _parse_into_archive(source, record, parts, archive, parse)
            held = check_volume(source, count, state)
            if held:
                record.status, record.reason_code, record.reason = "held", "volume_drop", held
            else:
                record.status, record.data_fetch_id = "ok", record.fetch_id
                _accept(source, record, archive, state)
    except SourceError as exc:
        record.status, record.reason_code, record.reason = (
            "failed",
            exc.reason_code,
            redact(str(exc), source.secret),
        )
    except Exception as exc:  # a bug in a family must fail its source, not the run
        log.exception("source %s: unexpected error", source.id)
        record.status, record.reason_code = "failed", "unexpected_error"
        record.reason = redact(
            f"{type(exc).__name__}: {exc}; this is a bug in the family, please report it", source.secret
        )
    finally:
        record.finished_at = datetime.now(UTC).isoformat()
        # Nothing new: no fsync of its own; the stage commits such records together (commit_fetch_records).
        archive.write_fetch(record, durable=record.status != "unchanged")
    log.info(
        "source %s: %s%s (%s records)",
        source.id,
        record.status,
        f" — {record.reason}" if record.reason else "",
        record.records,
    )
    if record.off_scope_links:
        log.warning(
            "source %s: skipped %d link(s) to hosts outside its scope, e.g. %s",
            source.id,
            record.off_scope_links,
            ", ".join(record.off_scope_examples[:3]),
        )
    return record


def fetch_source(
    source: Source,
    settings: Settings,
    client: PoliteClient,
    now: datetime | None = None,
    parse: SnapshotParser = parse_to_records_file,
) -> FetchRecord:
    started = now or datetime.now(UTC)
    archive = Archive(settings.raw_dir)
    record = FetchRecord(fetch_id=ids.fetch_id(source.id, started), source_id=source.id, started_at=started.isoformat())
    if source.link_only:
        record.status, record.reason_code = "link_only", "link_only"
        why = f": {source.terms}" if source.terms else ""
        record.reason = f"listed as a referral link, never fetched (link_only in the registry{why})"
        record.finished_at = started.isoformat()
        archive.write_fetch(record)
        return record
    state = archive.state(source.id)
    getter = _make_getter(source, record, archive, client, state)
    return _run(source, record, archive, state, lambda: family_module(source).fetch(source, getter), parse=parse)


def replay_source(
    source: Source,
    settings: Settings,
    day: str,
    now: datetime | None = None,
    parse: SnapshotParser = parse_to_records_file,
) -> FetchRecord:
    """Re-parse the last fetch of ``day`` (YYYY-MM-DD) from the archive, without the network."""
    archive = Archive(settings.raw_dir)
    candidates = archive.fetch_records(source.id, day)
    candidates = [c for c in candidates if c.snapshot_sha256 and all(archive.has(p.path) for p in c.parts)]
    started = now or datetime.now(UTC)
    record = FetchRecord(fetch_id=ids.fetch_id(source.id, started), source_id=source.id, started_at=started.isoformat())
    if not candidates:
        record.status, record.reason_code = "failed", "nothing_to_replay"
        record.reason = f"no archived fetch with complete bodies on {day}; fetch it live instead"
        record.finished_at = started.isoformat()
        archive.write_fetch(record)
        return record
    original = candidates[-1]
    record.parts = list(original.parts)

    def produce() -> list[SnapshotPart]:
        return [SnapshotPart(p.name, p.url, archive.read_body(p.path), p.content_type) for p in original.parts]

    return _run(source, record, archive, archive.state(source.id), produce, force_parse=True, parse=parse)


def read_records_table(settings: Settings, record: FetchRecord | dict[str, Any]):
    """The parsed records of a fetch, from its records file (pyarrow Table)."""
    rel = record["records_path"] if isinstance(record, dict) else record.records_path
    if not rel:
        raise ParseError(getattr(record, "source_id", "?"), "fetch has no records file")
    return pq.read_table(Path(settings.raw_dir) / rel)


def accept_held(source: Source, settings: Settings) -> FetchRecord:
    """An operator confirms a held source's drop is real: its last held fetch becomes the baseline.

    The next run then finds the same bytes ``unchanged`` and publishes them; the count history restarts.
    """
    archive = Archive(settings.raw_dir)
    held = [r for r in archive.fetch_records(source.id) if r.status == "held"]
    if not held:
        raise SourceError(source.id, "has no held fetch to accept")
    record = held[-1]
    _accept(source, record, archive, {"counts": []})
    return record
