"""12 Step Meeting List CSV / TSV exports (the plugin's import template and intergroup database dumps).

Real files are hand-made in spreadsheets, so the parser guesses what a spreadsheet may have done: tab or
comma, CR / CRLF / LF line ends, UTF-8 (with or without BOM) or a legacy 8-bit code page, ``NULL``
literals from database dumps, ``<br>`` inside fields, several days in one cell. It keeps every data row:
a row without a usable day becomes a record with ``weekday=None`` (normalization quarantines it), and
exact duplicate rows become distinct records (dedup collapses them later), so nothing vanishes here.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable

from extractors.records import (
    ParseError,
    Snapshot,
    SnapshotPart,
    SourceField,
    SourceRecord,
    iso_weekday_from_name,
)
from foundation.ids import hashed_source_key
from foundation.source import Source

PART = "meetings"
_F = SourceField
FIELDS: tuple[SourceField, ...] = (
    _F("slug", "source_key", "the key; else a hash of name, day, time, address, city", direct=False),
    _F("name", "name"),
    _F("day", "weekday", "English (or Spanish/German) day names; several in one cell → one record each",
       direct=False),
    _F("time", "start_time"),
    _F("end_time", "end_time"),
    _F("timezone", "timezone"),
    _F("group", "group_name"),
    _F("group_notes", "group_notes"),
    _F("district", "district"),
    _F("location", "venue_name"),
    _F("location_notes", "location_notes"),
    _F("address", "address", "a whole \"street, city, ST ZIP, country\" line is split in normalization"),
    _F("city", "city"),
    _F("state", "region_code"),
    _F("postal_code", "postal_code"),
    _F("country", "country"),
    _F("latitude", "latitude"),
    _F("longitude", "longitude"),
    _F("region", "source_regions", "first region label (NY Intergroup: its borough code)", direct=False),
    _F("sub_region", "source_regions", "second region label", direct=False),
    _F("types", "types", "names or codes, comma- or `<br>`-separated", direct=False),
    _F("notes", "notes"),
    _F("conference_url", "conference_url"),
    _F("conference_url_notes", "conference_url_notes"),
    _F("conference_phone", "conference_phone"),
    _F("conference_phone_notes", "conference_phone_notes"),
    _F("url", "source_url"),
    _F("website", "website"),
    _F("updated", "source_updated_at"),
    _F("entity", "entity"),
    _F("entity_url", "entity_url"),
    _F("entity_email", "entity_email"),
    _F("entity_phone", "entity_phone"),
    _F("entity_location", "entity_location"),
    _F("feedback_url", "feedback_url"),
    _F("sub_district", None, "the plugin's service-structure label below `district`: not read yet"),
    _F("website_2", None, "a second group website: not read yet"),
    _F("mailing_address", None, "the group's postal address for contributions, not the meeting's place"),
    _F("email", None, "group contact address, often a member's: not published"),
    _F("phone", None, "group contact number, often a member's: not published"),
    _F("author", None, "the site user who last edited the row: not published"),
    _F("last_contact", None, "when the site last heard from the group: internal bookkeeping"),
    _F("venmo", None, "7th Tradition contribution handle: not read yet"),
    *(_F(f"contact_{n}_{part}", None, "personal contact: never published")
      for n in (1, 2, 3) for part in ("name", "email", "phone")),
)  # fmt: skip
"""Every column of the plugin's export template (slugified header) and what becomes of it. Columns beyond
the header are kept in the record's raw JSON as ``_extra_<n>``."""
_DIRECT = tuple((f.source, f.record) for f in FIELDS if f.direct and f.record)

_NULL = "NULL"
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")


def fetch(source: Source, get: Callable[[str, str], SnapshotPart]) -> list[SnapshotPart]:
    return [get(PART, source.url)]


def decode(body: bytes) -> tuple[str, str]:
    """The text and the encoding chosen: UTF-8 when valid, else Mac-Roman or cp1252.

    Both 8-bit code pages decode any byte, so the choice needs outside evidence. Two simple signals point
    to Mac-Roman: bytes cp1252 leaves undefined (Mac-Roman letters such as ç, è, ê), and CR-only line ends,
    which is how Excel for Mac and classic Mac OS save text (the New York export is such a file).
    """
    try:
        return body.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    cr_only = b"\r" in body and b"\n" not in body
    if cr_only or not _CP1252_UNDEFINED.isdisjoint(body):
        return body.decode("mac_roman"), "mac_roman"
    return body.decode("cp1252"), "cp1252"


def _slug(header: str) -> str:
    """``"Postal Code"`` → ``postal_code``, ``"Contact 1 Email"`` → ``contact_1_email``."""
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def _read_rows(snapshot: Snapshot) -> tuple[list[str], list[list[str]]]:
    part = snapshot.part(PART)
    if b"\x00" in part.body:
        raise ParseError(snapshot.source_id, f"{part.url} holds binary data (NUL bytes), not a CSV/TSV file")
    text, _ = decode(part.body)
    if not text.strip():
        raise ParseError(snapshot.source_id, f"{part.url} is empty; expected a 12 Step Meeting List CSV/TSV")
    delimiter = "\t" if "\t" in text.lstrip().splitlines()[0] else ","
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if any(row)]
    except csv.Error as exc:
        raise ParseError(snapshot.source_id, f"{part.url} is not readable as CSV/TSV: {exc}") from exc
    header = [_slug(h) for h in rows[0]] if rows else []
    missing = [] if "name" in header else ["name"]
    if "day" not in header and "time" not in header:
        missing.append("day or time")
    if missing:
        raise ParseError(
            snapshot.source_id,
            f"{part.url}: header has no {' and no '.join(missing)} column; expected a 12 Step Meeting List "
            f"export whose first row names its columns (name, day, time, …), found {header[:12]}",
        )
    if len(rows) < 2:
        raise ParseError(snapshot.source_id, f"{part.url} has a header but no meeting rows")
    return header, rows[1:]


def _row_dict(header: list[str], row: list[str]) -> dict[str, str | None]:
    """The row as read, keyed by slugified header; cells beyond the header are kept, never dropped."""
    raw: dict[str, str | None] = dict(zip(header, row, strict=False))
    for extra, value in enumerate(row[len(header) :], start=1):
        raw[f"_extra_{extra}"] = value
    return raw


def _clean(value: str | None) -> str | None:
    """Outer whitespace off and the database ``NULL`` literal to ``None``; inner text (``<br>``) untouched."""
    if value is None:
        return None
    value = value.strip()
    return None if value in ("", _NULL) else value


def _types(value: str | None) -> list[str]:
    """Split on ``<br>`` when the cell uses it (names there may contain commas), else on commas."""
    if not value:
        return []
    tokens = _BR.split(value) if _BR.search(value) else value.split(",")
    # "B = Beginners meeting" stays whole: the export's own codes clash with Meeting Guide's (B is Big Book
    # there), so only the full token is unambiguous for the crosswalk.
    return [token for token in (t.strip() for t in tokens) if token]


def _days(value: str | None) -> list[str | None]:
    """``"Monday, Wednesday"`` → both; an empty cell → one day-less listing."""
    days: list[str | None] = [d.strip() for d in (value or "").split(",") if d.strip()]
    return days or [None]


def parse(snapshot: Snapshot) -> list[SourceRecord]:
    """One record per data row per listed day; keys from ``slug``, else a hash of the identifying cells.

    Repeats of the same identity (exact duplicate rows, a day listed twice) get an occurrence number in
    the key, so keys are unique within a snapshot and stable between runs of the same file.
    """
    header, rows = _read_rows(snapshot)
    seen: Counter[tuple[str | None, ...]] = Counter()
    records: list[SourceRecord] = []
    for row in rows:
        raw = _row_dict(header, row)
        cell = {key: _clean(value) for key, value in raw.items()}
        slug = cell.get("slug")
        days = _days(cell.get("day"))
        for day in days:
            if slug:
                base = slug if len(days) == 1 else f"{slug}-{_slug(day or '') or 'no-day'}"
                seen[(base,)] += 1
                occurrence = seen[(base,)]
                key = base if occurrence == 1 else f"{base}#{occurrence}"
            else:
                identity = (cell.get("name"), day, cell.get("time"), cell.get("address"), cell.get("city"))
                seen[identity] += 1
                key = hashed_source_key(*identity, seen[identity])
            records.append(
                SourceRecord(
                    source_key=key,
                    raw=raw,
                    weekday=iso_weekday_from_name(day),
                    weekday_raw=day,
                    types=_types(cell.get("types")),
                    source_regions=[label for label in (cell.get("region"), cell.get("sub_region")) if label],
                    **{record: cell.get(source) for source, record in _DIRECT},
                )
            )
    return records
