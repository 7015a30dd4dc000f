"""What a parser receives (a snapshot of saved bytes) and what it returns (source records).

A ``SourceRecord`` is structural, not semantic: the family maps its own field names onto these, converts
the weekday at the edge to ISO (1 = Monday … 7 = Sunday) and splits multi-day listings; everything else
(time formats, addresses, type codes, privacy) is the job of ``transforms.normalize``. The staging table's
schema is declared here, beside the record, and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import pyarrow as pa


class SourceError(Exception):
    """A whole source failed this run. The message says what happened and what the operator can do."""

    reason_code = "source_error"

    def __init__(self, source_id: str, message: str):
        self.source_id = source_id
        super().__init__(f"source {source_id!r}: {message}")


class FetchError(SourceError):
    reason_code = "fetch_failed"


class RestrictedFeed(FetchError):
    """HTTP 401/403: the site restricts its feed to key holders. Not retried."""

    reason_code = "restricted_feed"


class BlockedByRobots(FetchError):
    reason_code = "blocked_by_robots"


class UnexpectedContent(FetchError):
    """HTML (often a bot challenge) where JSON was expected, or a body over the size limit."""

    reason_code = "unexpected_content"


class OffScopeLink(FetchError):
    """A link to a host outside the source's scope (its ``url`` host and ``allowed_hosts``): not requested.

    A crawl skips it and counts it in the fetch record; the feed itself can never be off scope."""

    reason_code = "off_scope_link"


class OffScopeRedirect(FetchError):
    """A redirect to a host outside the source's scope, or one that would carry the feed key elsewhere."""

    reason_code = "off_scope_redirect"


class RefusedAddress(FetchError):
    """The host resolves only to addresses the network guard refuses (loopback, private, link-local, cloud
    metadata); nothing was sent."""

    reason_code = "refused_address"


class ParseError(SourceError):
    """The saved bytes could not be read as the family's format (malformed JSON, wrong shape)."""

    reason_code = "parse_failed"


class LayoutChanged(ParseError):
    """A page parsed, but a selector the family relies on found nothing: the site changed its layout."""

    reason_code = "layout_changed"

    def __init__(self, source_id: str, url: str, selector: str, detail: str = ""):
        self.url = url
        self.selector = selector
        msg = f"layout changed at {url}: selector {selector!r} found nothing"
        super().__init__(source_id, msg + (f" ({detail})" if detail else "") + "; update the family or recipe")


@dataclass(frozen=True)
class SnapshotPart:
    """One HTTP response body of a fetch, as archived."""

    name: str
    url: str
    body: bytes
    content_type: str = ""


@dataclass(frozen=True)
class Snapshot:
    """Everything one fetch of a source saved; the only input of a family's ``parse``."""

    source_id: str
    fetch_id: str
    fetched_at: datetime
    parts: tuple[SnapshotPart, ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    """The source's registry entry options a parser may need (e.g. recipe selectors, timezone)."""

    def part(self, name: str) -> SnapshotPart:
        for p in self.parts:
            if p.name == name:
                return p
        raise ParseError(self.source_id, f"snapshot {self.fetch_id} has no part {name!r}")


@dataclass(frozen=True)
class SourceField:
    """One field of a family's format and what the family does with it: the first column of the fidelity
    contract (``docs/data-dictionary.md``). Families declare every field their format is known to have,
    read or not, so a field nobody decided about is a test failure, not a silent loss."""

    source: str
    """The family's own name for it (a JSON key, a CSV header, a page label)."""
    record: str | None
    """The ``SourceRecord`` field it fills; ``None``: not read (``note`` says why)."""
    note: str = ""
    """How it is read, or why it is not."""
    direct: bool = True
    """Copied as is into ``record`` by the family's generic mapping (else the family reads it itself)."""


@dataclass(slots=True)
class SourceRecord:
    """One meeting (on one weekday) as a source lists it."""

    source_key: str
    raw: dict[str, Any]
    name: str | None = None
    weekday: int | None = None
    """ISO weekday, 1 = Monday … 7 = Sunday; ``None`` when the source gave none or an invalid one."""
    weekday_raw: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    duration: str | None = None
    """``HH:MM[:SS]`` or minutes, when the source gives a duration instead of an end time."""
    timezone: str | None = None
    fellowship: str | None = None
    """Only when the record itself names one (multi-fellowship feeds); else the registry's applies."""
    group_name: str | None = None
    venue_name: str | None = None
    address: str | None = None
    city: str | None = None
    region_code: str | None = None
    postal_code: str | None = None
    country: str | None = None
    formatted_address: str | None = None
    latitude: str | None = None
    longitude: str | None = None
    approximate: str | None = None
    attendance_hint: str | None = None
    """The source's own attendance field (Meeting Guide ``attendance_option``, BMLT ``venue_type``)."""
    conference_url: str | None = None
    conference_url_notes: str | None = None
    conference_phone: str | None = None
    conference_phone_notes: str | None = None
    group_notes: str | None = None
    district: str | None = None
    website: str | None = None
    """The group's own website (not the listing's page, which is ``source_url``)."""
    entity: str | None = None
    """The service entity responsible for the listing (intergroup, area, BMLT service body) and its official
    public contacts below; personal contacts (``contact_N_*``) are never read into a record."""
    entity_url: str | None = None
    entity_email: str | None = None
    entity_phone: str | None = None
    entity_location: str | None = None
    feedback_url: str | None = None
    source_regions: list[str] = field(default_factory=list)
    """The source's own region labels, most general first (Meeting Guide ``regions`` or region/sub_region)."""
    types: list[str] = field(default_factory=list)
    """Type codes as the source gives them (Meeting Guide codes, BMLT world ids or key strings)."""
    languages: list[str] = field(default_factory=list)
    notes: str | None = None
    location_notes: str | None = None
    source_url: str | None = None
    source_updated_at: str | None = None
    source_status: str | None = None
    """Set when the source itself withholds the record (e.g. BMLT ``published = 0``): quarantined, not lost."""


_LIST_FIELDS = ("types", "languages", "source_regions")
_STRING_FIELDS = [f.name for f in fields(SourceRecord) if f.name not in {"raw", "weekday", *_LIST_FIELDS}]
RECORD_FIELDS = tuple(f.name for f in fields(SourceRecord) if f.name != "raw")
"""Every field a family can fill (the fidelity contract maps source fields onto these)."""

STAGING_SCHEMA = pa.schema(
    [
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("fetch_id", pa.string(), nullable=False),
        pa.field("record_index", pa.int32(), nullable=False),
        pa.field("weekday", pa.int8()),
        *[pa.field(name, pa.list_(pa.string())) for name in _LIST_FIELDS],
        pa.field("raw", pa.string()),
        *[pa.field(name, pa.string(), nullable=name != "source_key") for name in _STRING_FIELDS],
    ]
)
"""Columns of ``staging.source_records`` (the record plus provenance); ``raw`` is the source JSON."""


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def to_arrow(source_id: str, fetch_id: str, records: list[SourceRecord]) -> pa.Table:
    """Records of one snapshot as a staging table. Blank strings become null here, once, for every family."""
    columns: dict[str, list[Any]] = {name: [] for name in STAGING_SCHEMA.names}
    for index, record in enumerate(records):
        columns["source_id"].append(source_id)
        columns["fetch_id"].append(fetch_id)
        columns["record_index"].append(index)
        columns["weekday"].append(record.weekday)
        for name in _LIST_FIELDS:
            columns[name].append([t for t in (_text(x) for x in getattr(record, name)) if t])
        columns["raw"].append(json.dumps(record.raw, ensure_ascii=False, default=str))
        for name in _STRING_FIELDS:
            columns[name].append(_text(getattr(record, name)))
    return pa.Table.from_pydict(columns, schema=STAGING_SCHEMA)


def iso_weekday_from_sunday0(value: object) -> int | None:
    """Meeting Guide / TSML weekday (0 = Sunday … 6 = Saturday) → ISO (1 = Monday … 7 = Sunday)."""
    try:
        day = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return 7 if day == 0 else day if 1 <= day <= 6 else None


def iso_weekday_from_sunday1(value: object) -> int | None:
    """BMLT weekday (1 = Sunday … 7 = Saturday) → ISO (1 = Monday … 7 = Sunday)."""
    try:
        day = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return 7 if day == 1 else day - 1 if 2 <= day <= 7 else None


_DAY_NAMES = {
    name: iso
    for iso, names in {
        1: ("monday", "mon", "mo", "lunes", "montag"),
        2: ("tuesday", "tue", "tues", "tu", "martes", "dienstag"),
        3: ("wednesday", "wed", "we", "miércoles", "miercoles", "mittwoch"),
        4: ("thursday", "thu", "thur", "thurs", "th", "jueves", "donnerstag"),
        5: ("friday", "fri", "fr", "viernes", "freitag"),
        6: ("saturday", "sat", "sa", "sábado", "sabado", "samstag"),
        7: ("sunday", "sun", "su", "domingo", "sonntag"),
    }.items()
    for name in names
}


def iso_weekday_from_name(value: object) -> int | None:
    """English (and common Spanish/German) day names or abbreviations, any case, plural ok → ISO weekday."""
    if value is None:
        return None
    key = str(value).strip().lower().rstrip(".")
    if key.endswith("s") and key[:-1] in _DAY_NAMES:
        key = key[:-1]
    return _DAY_NAMES.get(key)
