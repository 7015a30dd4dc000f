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

from clearinghouse.ids import hashed_source_key
from extractors.records import ParseError, Snapshot, SnapshotPart, SourceRecord, iso_weekday_from_name
from extractors.registry import Source

PART = "meetings"

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
                    name=cell.get("name"),
                    weekday=iso_weekday_from_name(day),
                    weekday_raw=day,
                    start_time=cell.get("time"),
                    end_time=cell.get("end_time"),
                    timezone=cell.get("timezone"),
                    group_name=cell.get("group"),
                    venue_name=cell.get("location"),
                    address=cell.get("address"),
                    city=cell.get("city"),
                    region_code=cell.get("state"),
                    postal_code=cell.get("postal_code"),
                    country=cell.get("country"),
                    conference_url=cell.get("conference_url"),
                    conference_phone=cell.get("conference_phone"),
                    types=_types(cell.get("types")),
                    notes=cell.get("notes"),
                    location_notes=cell.get("location_notes"),
                    source_url=cell.get("url") or cell.get("website"),
                    source_updated_at=cell.get("updated"),
                )
            )
    return records
