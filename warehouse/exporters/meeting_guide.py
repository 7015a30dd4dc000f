"""Meeting Guide JSON (the feed format of the 12 Step Meeting List and the Meeting Guide app): one array per
scope — ``meeting-guide.json`` for the whole release, ``meeting-guide/<region>.json`` per region — that any
app reading such feeds consumes unchanged.

The spec's conventions are applied here, at the edge: ``day`` 0–6 with Sunday = 0 (the warehouse weekday is
ISO, 1 = Monday … 7 = Sunday), ``time``/``end_time`` "HH:MM", ``slug`` the stable meeting id (unique),
``updated`` the source's own stamp ("YYYY-MM-DD HH:MM:SS" UTC; left out when the source gives none, never the
release time), ``types`` only from the spec's codes — the canonical attributes mapped back (a meeting
temporarily closed is ``TC``; ``ONL`` left the spec in 2022: online access is the conference fields) — and
``approximate`` "no" for an in-person or hybrid meeting, so apps derive the same attendance
(``attendance_option`` says it outright). ``end_time`` only when the source gave it or a duration (apps assume
an hour otherwise), coordinates only the source's own (a ZIP centroid is not the meeting's place). A place we
could not parse is published as the source wrote it (``formatted_address``). The spec has no field for
monthly meetings ("the spec is for weekly meetings"), so a monthly meeting's notes begin with what apps show
and people read: "Monthly: first Saturday only." Empty fields are left out.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from foundation.model import WEEKDAYS
from foundation.sql import sql_text
from transforms.crosswalk import ANY, type_rows
from transforms.recurrence import WEEK_NAMES
from warehouse.exporters.common import (
    LABELS_TABLE,
    SCOPE_VIEW,
    Scope,
    file_entry,
    hhmm_sql,
    json_sql,
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


def monthly_note_sql() -> str:
    """SQL for "Monthly: first and third Sunday only." (or "Monthly: one Sunday a month.") of a monthly
    meeting, else NULL."""
    ordinals = "MAP {" + ", ".join(f"{w}: {sql_text(word)}" for w, word in WEEK_NAMES.items()) + "}"
    days = "[" + ", ".join(sql_text(day) for day in WEEKDAYS.values()) + "][weekday]"
    words = f"list_transform(weeks_of_month, lambda w: {ordinals}[w])"
    but_last = f"array_to_string(list_slice({words}, 1, len({words}) - 1), ', ')"
    joined = f"CASE WHEN len({words}) = 1 THEN {words}[1] ELSE {but_last} || ' and ' || {words}[-1] END"
    return (
        f"CASE WHEN frequency = 'monthly' THEN 'Monthly: ' || CASE WHEN len(weeks_of_month) > 0 "
        f"THEN {joined} || ' ' || {days} || ' only.' ELSE 'one ' || {days} || ' a month.' END END"
    )


LABELS = "scope_labels"
"""The column of the scope's view that holds a meeting's place in the feed's hierarchy (``write``)."""
PLACE = ("city", "region_code", "postal_code", "latitude", "longitude", "source_regions")
"""The canonical fields a meeting's place in a region hierarchy is derived from."""


FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("name", "name", ("name",)),
    ("slug", "meeting_id", ()),
    ("day", "(weekday % 7)::INTEGER", ("weekday",)),
    ("time", hhmm_sql("start_time"), ("start_time",)),
    ("end_time", hhmm_sql("end_time"), ("end_time",)),
    ("timezone", "timezone", ("timezone",)),
    ("types", types_sql(), ("types", "accessibility", "languages", "open_closed", "attendance")),
    ("attendance_option", "attendance", ("attendance",)),
    ("group", "group_name", ("group_name",)),
    ("group_notes", "group_notes", ("group_notes",)),
    ("district", "district", ("district",)),
    ("website", "website", ("website",)),
    ("notes", f"nullif(concat_ws(chr(10), {monthly_note_sql()}, notes), '')", ("notes", "frequency",
                                                                             "weeks_of_month")),
    ("location", "venue_name", ("venue_name",)),
    ("location_notes", "location_notes", ("location_notes",)),
    ("address", "address_line", ("address_line",)),
    ("city", "city", ("city",)),
    ("state", "region_code", ("region_code",)),
    ("postal_code", "postal_code", ("postal_code",)),
    ("country", "country", ("country",)),
    ("formatted_address",
     "CASE WHEN address_line IS NULL AND unparsed_address IS NOT NULL THEN unparsed_address ELSE "
     "nullif(concat_ws(', ', address_line, city, nullif(trim(concat_ws(' ', region_code, postal_code)), ''), "
     "country), '') END",
     ("address_line", "city", "region_code", "postal_code", "country", "unparsed_address")),
    ("latitude", "CASE WHEN coordinates_source = 'source' THEN latitude END", ("latitude",)),
    ("longitude", "CASE WHEN coordinates_source = 'source' THEN longitude END", ("longitude",)),
    ("approximate",
     "CASE WHEN attendance IN ('in_person', 'hybrid') OR (attendance = 'inactive' AND address_line IS NOT NULL) "
     "THEN 'no' ELSE 'yes' END", ("attendance", "address_line")),
    ("conference_url", "conference_url", ("conference_url",)),
    ("conference_url_notes", "conference_url_notes", ("conference_url_notes",)),
    ("conference_phone", "conference_phone", ("conference_phone",)),
    ("conference_phone_notes", "conference_phone_notes", ("conference_phone_notes",)),
    ("region", f"{LABELS}[1]", PLACE),
    ("sub_region", f"{LABELS}[2]", PLACE),
    ("regions", f"CASE WHEN len({LABELS}) > 0 THEN {LABELS} END", PLACE),
    ("entity", "entity", ("entity",)),
    ("entity_url", "entity_url", ("entity_url",)),
    ("entity_email", "entity_email", ("entity_email",)),
    ("entity_phone", "entity_phone", ("entity_phone",)),
    ("entity_location", "entity_location", ("entity_location",)),
    ("feedback_url", "feedback_url", ("feedback_url",)),
    ("updated", "strftime(source_updated_at, '%Y-%m-%d %H:%M:%S')", ("source_updated_at",)),
    ("url", "source_url", ("source_url",)),
)  # fmt: skip
"""(key, SQL over a published meeting, the canonical fields it reads): one Meeting Guide meeting object.
``regions`` is the meeting's place in the feed's hierarchy (``transforms.regions``: the national feed [state,
county, city, neighbourhood], a state's the same without the state, an operator region's [borough or city,
neighbourhood]), ``region`` and ``sub_region`` its first two levels; the source's own labels are published in
the tables as ``source_regions``."""
DERIVED = {
    "slug": "the release's stable meeting id (unique in every feed; the source's own key is in `sources`)",
    "timezone": "the canonical zone, also when derived (`timezone_source` in the tables says how)",
    "attendance_option": "the canonical attendance, also when derived from types and address",
    "approximate": 'from attendance: "no" for in-person and hybrid meetings, so apps show them in person',
    "region": "the first level of the meeting's place in the feed's hierarchy: the state in the whole "
    "release and the online feed; the county (a borough in New York City) in a state's; the borough or city in "
    "an operator region's (`new-york-city`: Manhattan, Bronx, Brooklyn, Queens, Staten Island)",
    "sub_region": "the second level: the county in the whole release, the city or neighbourhood below a "
    "county, the neighbourhood below a borough or city (from the city or the source's own labels)",
    "regions": "every level, most general first (apps that read it show a region tree)",
    "types": "the canonical attributes mapped back to spec codes (unknown codes stay in the tables)",
}
"""Keys whose value the release derives (documented in the data dictionary), even when the source gave one."""


def meeting_sql() -> str:
    """SQL for one Meeting Guide meeting object (JSON text) per row of the scope."""
    return json_sql("{" + ", ".join(f"'{key}': {sql}" for key, sql, _ in FIELDS) + "}")


def path_of(scope: Scope) -> str:
    return f"meeting-guide/{scope.region}.json" if scope.region else "meeting-guide.json"


def write(con: duckdb.DuckDBPyConnection, scope: Scope, root: Path) -> list[dict[str, Any]]:
    path = target(root, path_of(scope))
    labelled = (
        f"SELECT s.*, coalesce(l.labels, []::VARCHAR[]) AS {LABELS} FROM {SCOPE_VIEW} s "
        f"LEFT JOIN {LABELS_TABLE} l ON l.meeting_id = s.meeting_id AND l.scope = {sql_text(scope.region or '')}"
    )
    rows = write_json_items(con, f"SELECT {meeting_sql()} FROM ({labelled}) ORDER BY meeting_id", path, "[\n",
                            "\n]")  # fmt: skip
    return [file_entry(root, path, rows)]
