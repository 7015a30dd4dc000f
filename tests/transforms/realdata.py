"""Staging tables built from the real recorded feeds, through the real family parsers.

Used by the normalization tests and by ``bench/bench_normalize.py``. Files: the demo snapshots
(``sources/snapshots/``), the extractor fixtures (``tests/fixtures/bmlt/berlin``, ``tests/fixtures/tsml_csv``)
and the Online Intergroup export (``tests/fixtures/normalize``); provenance in each folder's SOURCE.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pyarrow as pa

from extractors import bmlt, meeting_guide, tsml_csv
from extractors.records import Snapshot, SnapshotPart, SourceRecord, to_arrow
from foundation.source import Source

REPO = Path(__file__).resolve().parents[2]
SNAPSHOTS = REPO / "sources" / "snapshots"
FIXTURES = REPO / "tests" / "fixtures"
FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RealSource:
    source: Source
    records: Callable[[Source], list[SourceRecord]]


def _snapshot(source: Source, parts: list[tuple[str, Path | bytes]]) -> Snapshot:
    return Snapshot(
        source_id=source.id,
        fetch_id=f"{source.id}@test",
        fetched_at=FETCHED_AT,
        parts=tuple(
            SnapshotPart(name, source.url, body if isinstance(body, bytes) else body.read_bytes())
            for name, body in parts
        ),
    )


def _meeting_guide(path: Path) -> Callable[[Source], list[SourceRecord]]:
    return lambda source: meeting_guide.parse(_snapshot(source, [(meeting_guide.PART, path)]))


def _tsml(path: Path) -> Callable[[Source], list[SourceRecord]]:
    return lambda source: tsml_csv.parse(_snapshot(source, [(tsml_csv.PART, path)]))


def _gny(source: Source) -> list[SourceRecord]:
    folder = SNAPSHOTS / "gny-na"
    parts = [("meetings", folder / "GetSearchResults.json"), ("formats", folder / "GetFormats.json"),
             ("service_bodies", folder / "GetServiceBodies.json")]  # fmt: skip
    return bmlt.parse(_snapshot(source, parts))


BERLIN = FIXTURES / "bmlt" / "berlin" / "GetSearchResults.json"


def berlin_formats() -> bytes:
    """No GetFormats of the Berlin server was saved. Its search results pair every meeting's ``formats`` keys
    with its ``format_shared_id_list`` ids one to one (consistently over all 108 meetings), so the server's
    own id → key table is rebuilt from them; none of them has a world id in this reconstruction."""
    keys: dict[str, str] = {}
    for meeting in json.loads(BERLIN.read_bytes()):
        ids = [i for i in meeting["format_shared_id_list"].split(",") if i]
        keys.update(zip(ids, [k for k in meeting["formats"].split(",") if k], strict=True))
    return json.dumps([{"id": i, "key_string": k, "world_id": "", "lang": "de"} for i, k in keys.items()]).encode()


def _berlin(source: Source) -> list[SourceRecord]:
    return bmlt.parse(_snapshot(source, [("meetings", BERLIN), ("formats", berlin_formats())]))


def _oiaa(source: Source) -> list[SourceRecord]:
    """The Online Intergroup database export is not a feed shape: mapped here field by field.

    Its ``day`` is ISO (1 = Monday … 7 = Sunday, checked against ``startDateUTC``); the one 0 is read as
    Sunday, the Meeting Guide convention.
    """
    items = json.loads((FIXTURES / "normalize" / "oiaa_online_meetings.central-export.json").read_bytes())
    records = []
    for item in items:
        day = item.get("day")
        records.append(
            SourceRecord(
                source_key=item["slug"],
                raw=item,
                name=item.get("name"),
                weekday=None if day is None else 7 if day == 0 else int(day),
                weekday_raw=None if day is None else str(day),
                start_time=item.get("time"),
                duration=None if item.get("duration") is None else str(item["duration"]),
                timezone=item.get("timezone"),
                conference_url=item.get("conference_url"),
                conference_url_notes=item.get("conference_url_notes"),
                conference_phone=item.get("conference_phone"),
                conference_phone_notes=item.get("conference_phone_notes"),
                types=list(item.get("types") or []),
                languages=list(item.get("languages") or []),
                notes=item.get("notes"),
                source_updated_at=(item.get("updatedAt") or {}).get("$date"),
            )
        )
    return records


def _source(id: str, fellowship: str, kind: str, timezone: str | None, country: str = "US") -> Source:
    return Source(
        id=id, name=id, fellowship=fellowship, kind=kind, url=f"https://{id}.example.org/", timezone=timezone,
        country=country,
    )  # fmt: skip


MG = SNAPSHOTS / "mg"
TSML = FIXTURES / "tsml_csv"
_REAL: list[tuple[Source, Callable[[Source], list[SourceRecord]]]] = [
    (_source("oc-aa", "AA", "meeting_guide", "America/Los_Angeles"),
     _meeting_guide(MG / "oc-aa_orange-county-ca_2023-08-31.json")),
    (_source("nepa-aa", "AA", "meeting_guide", "America/New_York"),
     _meeting_guide(MG / "aaintergroupnepa_ne-pennsylvania_2026-03-20.json")),
    (_source("nepa-aa-2022", "AA", "meeting_guide", "America/New_York"),
     _meeting_guide(MG / "aaintergroupnepa_ne-pennsylvania_2022-11-01.json")),
    (_source("sussex-aa", "AA", "meeting_guide", "America/New_York"),
     _meeting_guide(MG / "sussexaa_sussex-county-de_2022-09-01.json")),
    (_source("alanon-ma", "AL-ANON", "meeting_guide", "America/New_York"),
     _meeting_guide(MG / "alanonma_massachusetts_al-anon_2023-08-22.json")),
    (_source("sepia-aa", "AA", "meeting_guide", "America/New_York"),
     _meeting_guide(MG / "aasepia_se-pennsylvania_2022-10-14.json")),
    (_source("sanjose-aa", "AA", "meeting_guide", "America/Los_Angeles"),
     _meeting_guide(MG / "aasanjose-sheets_santa-clara-county-ca_2021-10.json")),
    (_source("sanjose-wp", "AA", "meeting_guide", "America/Los_Angeles"),
     _meeting_guide(MG / "aasanjose-wp_santa-clara-county-ca_2019-07-26.json")),
    (_source("gny-na", "NA", "bmlt", "America/New_York"), _gny),
    (_source("berlin-na", "NA", "bmlt", "Europe/Berlin", "DE"), _berlin),
    (_source("nyc-aa", "AA", "tsml_csv", "America/New_York"), _tsml(TSML / "nyintergroup_2015-10.tsv")),
    (_source("sanjose-template", "AA", "tsml_csv", None), _tsml(TSML / "tsml_template_san_jose.csv")),
    (_source("oiaa", "AA", "meeting_guide", None), _oiaa),
]  # fmt: skip
REAL_SOURCES = {source.id: RealSource(source, parse) for source, parse in _REAL}
"""Every real file, as a registry entry with the defaults its real registry entry has (or would have)."""

SOURCES: dict[str, Source] = {sid: r.source for sid, r in REAL_SOURCES.items()}


@cache
def records(source_id: str) -> tuple[SourceRecord, ...]:
    real = REAL_SOURCES[source_id]
    return tuple(real.records(real.source))


def staging(*source_ids: str) -> pa.Table:
    """Staging rows of the given sources (all real sources when none is given), one fetch each."""
    ids = source_ids or tuple(REAL_SOURCES)
    return pa.concat_tables([to_arrow(sid, f"{sid}@test", list(records(sid))) for sid in ids])


SCRUBBED_PHONE = "555-0100"
"""What the scrubbed fixtures put where a source had a phone number (also dial-ins, meeting ids and passcodes)."""
KEPT_BEFORE = re.compile(
    r"(?:(?:dial(?:[\s-]*in)?|conference call|one tap mobile)[^\n]{0,25}|(?:id|code|pass\w*)\W{0,4}|https?://\S*|\d,+)$",
    re.IGNORECASE,
)
KEPT_AFTER = re.compile(r",+\d|\n?[^\n]{0,40}?(?:id|code|pass\w*)\b", re.IGNORECASE)
"""Where the scrubbed number stands for a dial-in, a meeting id, a passcode or part of a link: places where
``transforms.privacy`` keeps a number."""


def kept_scrubbed_phones(text: str) -> int:
    """How many scrubbed numbers of ``text`` stand where the rule keeps a number."""
    spots = [m.start() for m in re.finditer(SCRUBBED_PHONE, text)]
    return sum(1 for i in spots if KEPT_BEFORE.search(text[:i]) or KEPT_AFTER.match(text, i + len(SCRUBBED_PHONE)))
