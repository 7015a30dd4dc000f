"""Meeting Guide JSON (the feed format of the 12 Step Meeting List and the Meeting Guide app): one array per
scope — ``meeting-guide.json`` for the whole release, ``meeting-guide/<region>.json`` per region — that any
app reading such feeds consumes unchanged.

The spec's conventions are applied here, at the edge: ``day`` 0–6 with Sunday = 0 (the warehouse weekday is
ISO, 1 = Monday … 7 = Sunday), ``time``/``end_time`` "HH:MM", ``slug`` the stable meeting id (unique),
``updated`` "YYYY-MM-DD HH:MM:SS" UTC, ``types`` only from the spec's codes — the canonical attributes mapped
back (a meeting temporarily closed is ``TC``; ``ONL`` left the spec in 2022: online access is the conference
fields) — and ``approximate`` "no" only for an in-person or hybrid meeting with a street address, so apps
derive the same attendance (``attendance_option`` says it outright). Empty fields are left out.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from transforms.crosswalk import ANY, type_rows
from warehouse.exporters.common import (
    SCOPE_VIEW,
    Scope,
    file_entry,
    hhmm_sql,
    json_sql,
    sql_text,
    target,
    write_json_items,
)

REMOVED_CODES = frozenset({"ONL"})
"""Crosswalk codes of the Meeting Guide scheme that are no longer in the spec."""
TEMPORARILY_CLOSED = "TC"


def _tokens(code_row: Any) -> list[str]:
    return [
        *(f"t:{t}" for t in code_row.types),
        *(f"a:{a}" for a in code_row.accessibility),
        *(f"l:{lang}" for lang in code_row.languages),
        *([f"oc:{code_row.open_closed}"] if code_row.open_closed else []),
    ]


@cache
def spec_codes() -> dict[str, str]:
    """Canonical attribute ("t:women", "l:es", "oc:closed") → the spec code that says it: of the spec codes
    carrying the attribute, the one carrying the fewest (``step`` is ST, not 11 = step + meditation)."""
    rows = [
        r for r in type_rows() if r.scheme == "meeting_guide" and r.fellowship == ANY and r.code not in REMOVED_CODES
    ]
    best: dict[str, str] = {}
    for _, code, tokens in sorted((len(_tokens(r)), r.code, _tokens(r)) for r in rows):
        for token in tokens:
            best.setdefault(token, code)
    return best


def types_sql() -> str:
    """SQL for a meeting's spec type codes, sorted."""
    table = "MAP {" + ", ".join(f"{sql_text(k)}: {sql_text(v)}" for k, v in sorted(spec_codes().items())) + "}"
    tokens = (
        "list_concat(list_transform(coalesce(types, []), lambda x: 't:' || x), "
        "list_transform(coalesce(accessibility, []), lambda x: 'a:' || x), "
        "list_transform(coalesce(languages, []), lambda x: 'l:' || x), "
        "CASE WHEN open_closed IS NULL THEN []::VARCHAR[] ELSE ['oc:' || open_closed] END)"
    )
    mapped = f"list_filter(list_transform({tokens}, lambda x: {table}[x]), lambda c: c IS NOT NULL)"
    closed = f"CASE WHEN attendance = 'inactive' THEN ['{TEMPORARILY_CLOSED}'] ELSE []::VARCHAR[] END"
    return f"list_sort(list_distinct(list_concat({mapped}, {closed})))"


def meeting_sql() -> str:
    """SQL for one Meeting Guide meeting object (JSON text) per row of the scope."""
    place = "nullif(trim(concat_ws(' ', region_code, postal_code)), '')"
    fields = {
        "name": "name",
        "slug": "meeting_id",
        "day": "(weekday % 7)::INTEGER",
        "time": hhmm_sql("start_time"),
        "end_time": hhmm_sql("end_time"),
        "timezone": "timezone",
        "types": types_sql(),
        "attendance_option": "attendance",
        "group": "group_name",
        "notes": "notes",
        "location": "venue_name",
        "location_notes": "location_notes",
        "address": "address_line",
        "city": "city",
        "state": "region_code",
        "postal_code": "postal_code",
        "country": "country",
        "formatted_address": f"nullif(concat_ws(', ', address_line, city, {place}, country), '')",
        "latitude": "latitude",
        "longitude": "longitude",
        "approximate": "CASE WHEN address_line IS NOT NULL AND attendance <> 'online' THEN 'no' ELSE 'yes' END",
        "conference_url": "conference_url",
        "conference_phone": "conference_phone",
        "region": "city",
        "updated": "strftime(updated_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S')",
        "url": "source_url",
    }
    return json_sql("{" + ", ".join(f"'{k}': {v}" for k, v in fields.items()) + "}")


def path_of(scope: Scope) -> str:
    return f"meeting-guide/{scope.region}.json" if scope.region else "meeting-guide.json"


def write(con: duckdb.DuckDBPyConnection, scope: Scope, root: Path) -> list[dict[str, Any]]:
    path = target(root, path_of(scope))
    rows = write_json_items(con, f"SELECT {meeting_sql()} FROM {SCOPE_VIEW} ORDER BY meeting_id", path, "[\n", "\n]")
    return [file_entry(root, path, rows)]
