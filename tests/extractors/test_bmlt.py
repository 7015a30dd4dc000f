"""The ``bmlt`` family on real root-server responses.

Greater New York: ``sources/snapshots/gny-na/`` (provenance in ``sources/snapshots/SOURCE.md``), a legacy
server (no ``venue_type``, no ``time_zone``). Berlin: ``tests/fixtures/bmlt/berlin/`` (provenance in its
``SOURCE.md``), a modern server with virtual meetings. Inline bodies only where no real file has the shape.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from extractors import bmlt
from extractors.records import ParseError, Snapshot, SnapshotPart, SourceRecord, to_arrow
from foundation.source import Source

ROOT = "https://bmlt.newyorkna.org/main_server/"
GNY = Path(__file__).parents[2] / "sources" / "snapshots" / "gny-na"
BERLIN = Path(__file__).parents[1] / "fixtures" / "bmlt" / "berlin"

GNY_MEETINGS = (GNY / "GetSearchResults.json").read_bytes()
GNY_FORMATS = (GNY / "GetFormats.json").read_bytes()
GNY_SERVICE_BODIES = (GNY / "GetServiceBodies.json").read_bytes()
BERLIN_MEETINGS = (BERLIN / "GetSearchResults.json").read_bytes()

# No GetFormats response of the Berlin server was saved: this minimal list is constructed for the tests.
# 213 is the server's "VM" format (virtual meeting, world id VM); 107 is its "en" (English) format, given
# here without a world id so that the key string is used. Every other id stays unmapped ("id:<n>").
BERLIN_FORMATS = [
    {"id": "213", "key_string": "VM", "name_string": "Virtuelles Meeting", "lang": "de", "world_id": "VM"},
    {"id": "107", "key_string": "en", "name_string": "Englisch", "lang": "de", "world_id": ""},
]


def _url(switcher: str) -> str:
    return f"{ROOT}client_interface/json/?switcher={switcher}"


def _snapshot(meetings: bytes, formats: bytes = GNY_FORMATS, *, service_bodies: bool = True) -> Snapshot:
    parts = [
        SnapshotPart("meetings", _url("GetSearchResults"), meetings),
        SnapshotPart("formats", _url("GetFormats"), formats),
    ]
    if service_bodies:
        parts.append(SnapshotPart("service_bodies", _url("GetServiceBodies"), GNY_SERVICE_BODIES))
    return Snapshot(
        source_id="t",
        fetch_id="f1",
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
        parts=tuple(parts),
    )


@cache
def _gny() -> list[SourceRecord]:
    return bmlt.parse(_snapshot(GNY_MEETINGS))


@cache
def _berlin() -> list[SourceRecord]:
    return bmlt.parse(_snapshot(BERLIN_MEETINGS, json.dumps(BERLIN_FORMATS).encode()))


def _one(records: list[SourceRecord], key: str) -> SourceRecord:
    [record] = [r for r in records if r.source_key == key]
    return record


def _gny_raw(key: str) -> dict[str, Any]:
    [item] = [m for m in json.loads(GNY_MEETINGS) if m["id_bigint"] == key]
    return item


def _parse_items(items: Any, formats: bytes = GNY_FORMATS) -> list[SourceRecord]:
    return bmlt.parse(_snapshot(json.dumps(items).encode(), formats))


def _error(meetings: bytes, formats: bytes = GNY_FORMATS) -> ParseError:
    with pytest.raises(ParseError) as info:
        bmlt.parse(_snapshot(meetings, formats))
    return info.value


# --- Greater New York: the whole export ------------------------------------------------------------------


def test_gny_every_meeting_becomes_a_record() -> None:
    assert len(_gny()) == 1555


def test_gny_keys_are_unique() -> None:
    assert len({r.source_key for r in _gny()}) == 1555


def test_gny_keys_are_id_bigint_in_order() -> None:
    assert [r.source_key for r in _gny()] == [m["id_bigint"] for m in json.loads(GNY_MEETINGS)]


def test_gny_unpublished_meetings_are_kept_and_marked() -> None:
    assert Counter(r.source_status for r in _gny()) == {None: 1513, "unpublished": 42}


def test_gny_unpublished_means_published_zero() -> None:
    assert {r.raw["published"] for r in _gny() if r.source_status == "unpublished"} == {"0"}


def test_gny_weekdays_are_iso() -> None:
    # Raw weekday_tinyint: 1 (Sun): 193, 2: 232, 3: 233, 4: 220, 5: 225, 6: 233, 7 (Sat): 219.
    assert Counter(r.weekday for r in _gny()) == {7: 193, 1: 232, 2: 233, 3: 220, 4: 225, 5: 233, 6: 219}


def test_gny_languages_from_lang_enum() -> None:
    assert Counter(tuple(r.languages) for r in _gny()) == {("en",): 1555}


def test_gny_blank_time_zone_is_none_everywhere() -> None:
    assert {r.timezone for r in _gny()} == {None}


def test_gny_blank_venue_type_gives_no_attendance_hint() -> None:
    assert {r.attendance_hint for r in _gny()} == {None}


def test_gny_nation_is_kept_as_given() -> None:
    # Normalization maps these to "US"; the parser only turns "" into None.
    assert Counter(r.country for r in _gny()) == {
        "USA": 1349,
        None: 195,
        "U.S.A": 5,
        "United States": 4,
        "US": 1,
        "United States of America": 1,
    }


def test_gny_meetings_without_formats_have_no_types() -> None:
    assert sum(1 for r in _gny() if r.types == []) == 117


def test_gny_contact_fields_are_only_in_raw() -> None:
    record = _one(_gny(), "2")
    only_raw = [k for k in record.raw if k.startswith("contact_") and not hasattr(record, k)]
    assert len(only_raw) == 6


def test_gny_records_fit_the_staging_table() -> None:
    assert to_arrow("t", "f1", _gny()).num_rows == 1555


# --- Greater New York: meeting 2, "Nothing Macho" ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Nothing Macho"),
        ("weekday", 6),  # weekday_tinyint "7" = Saturday
        ("weekday_raw", "7"),
        ("start_time", "14:00:00"),
        ("duration", "01:30:00"),
        ("end_time", None),
        ("postal_code", "10467"),
        ("venue_name", "North Central Bronx Hospital, Room 14B07"),
        ("address", "3424 Kossuth Ave."),
        ("city", "New York"),
        ("region_code", "NY"),
        ("country", "USA"),
        ("latitude", "40.8806192784682"),
        ("longitude", "-73.8814955949783"),
        ("location_notes", "@210th St"),
        ("notes", None),  # comments ""
        ("timezone", None),  # time_zone ""
        ("attendance_hint", None),  # venue_type ""
        ("conference_url", None),
        ("types", ["M", "OPEN", "STEP"]),  # format_shared_id_list "15,17,27"
        ("languages", ["en"]),
        ("source_status", None),
    ],
)
def test_gny_nothing_macho(field: str, value: object) -> None:
    assert getattr(_one(_gny(), "2"), field) == value


@pytest.mark.parametrize(("fid", "world_id"), [("15", "M"), ("17", "OPEN"), ("27", "STEP")])
def test_gny_formats_file_has_the_world_ids_nothing_macho_uses(fid: str, world_id: str) -> None:
    # The recorded GetFormats rows behind the types asserted above (English row of each id).
    [row] = [f for f in json.loads(GNY_FORMATS) if f["id"] == fid and f["lang"] == "en"]
    assert row["world_id"] == world_id


def test_gny_sunday_is_iso_7() -> None:
    # id 7, "Beginner Meeting on Sunday", weekday_tinyint "1".
    assert _one(_gny(), "7").weekday == 7


def test_gny_sunday_meeting_types() -> None:
    assert _one(_gny(), "7").types == ["BEG", "OPEN", "WCHR"]  # 1,17,33


def test_gny_format_without_world_id_keeps_its_key_string() -> None:
    # id 87 has format 16 ("NC", no world id on any row) beside 4, 27, 29.
    assert _one(_gny(), "87").types == ["CLOSED", "NC", "STEP", "TOP"]


def test_gny_language_format_sends_the_server_key() -> None:
    # Format 9's world id is the generic LANG; its key string ES says which language ("Solamente por Hoy").
    assert _one(_gny(), "32").types == ["ES", "OPEN", "STEP"]


def test_gny_unpublished_meeting() -> None:
    assert _one(_gny(), "6").source_status == "unpublished"


def test_gny_city_falls_back_to_city_subsection() -> None:
    # id 121: location_municipality "", location_city_subsection "Brooklyn".
    assert _one(_gny(), "121").city == "Brooklyn"


def test_gny_raw_keeps_blank_strings() -> None:
    assert _one(_gny(), "2").raw["time_zone"] == ""


def test_parse_does_not_need_service_bodies() -> None:
    records = bmlt.parse(_snapshot(GNY_MEETINGS, service_bodies=False))
    assert len(records) == 1555


# --- Berlin: a modern server with virtual meetings --------------------------------------------------------


def test_berlin_every_meeting_becomes_a_record() -> None:
    assert len(_berlin()) == 108


def test_berlin_attendance_from_venue_type() -> None:
    assert Counter(r.attendance_hint for r in _berlin()) == {"in_person": 85, "online": 23}


def test_berlin_every_online_meeting_has_a_link() -> None:
    assert all(r.conference_url for r in _berlin() if r.attendance_hint == "online")


def test_berlin_no_in_person_meeting_has_a_link() -> None:
    assert [r.source_key for r in _berlin() if r.attendance_hint == "in_person" and r.conference_url] == []


def test_berlin_languages_are_german() -> None:
    assert Counter(tuple(r.languages) for r in _berlin()) == {("de",): 108}


def test_berlin_weekdays_are_iso() -> None:
    # Raw weekday_tinyint: 1 (Sun): 18, 2: 15, 3: 13, 4: 18, 5: 17, 6: 17, 7 (Sat): 10.
    assert Counter(r.weekday for r in _berlin()) == {7: 18, 1: 15, 2: 13, 3: 18, 4: 17, 5: 17, 6: 10}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Schritte schreib Meeting"),
        ("attendance_hint", "online"),  # venue_type "2"
        ("conference_url", "https://us02web.zoom.us/j/9079883918?pwd=LzZodFhaS0ZuT0h4RFdKOThKTE1mZz09"),
        ("conference_url_notes", "Passwort: 647529"),
        ("conference_phone", None),
        ("weekday", 7),  # weekday_tinyint "1"
        ("start_time", "10:00:00"),
        ("duration", "00:35:00"),
        ("languages", ["de"]),
        ("types", ["VM"]),
        ("venue_name", None),
        ("address", None),
        ("notes", "Schreiben in Stille/Write in silence"),
    ],
)
def test_berlin_virtual_meeting(field: str, value: object) -> None:
    assert getattr(_one(_berlin(), "10818"), field) == value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Steps on a Sunday"),
        ("attendance_hint", "in_person"),  # venue_type "1"
        ("conference_url", None),
        ("venue_name", "Volkssolidarität: Stadtteilzentrum Friedrichshain"),
        ("address", "Pauline-Staegemann-Straße 6"),
        ("city", "Berlin"),
        ("postal_code", "10249"),
        ("country", "Deutschland"),
        ("types", ["en"]),  # format 107 has no world id in the constructed list: key string
    ],
)
def test_berlin_in_person_meeting(field: str, value: object) -> None:
    assert getattr(_one(_berlin(), "11005"), field) == value


def test_berlin_unknown_format_id_is_kept_with_its_id() -> None:
    # 94 ("KT" on this server) is not in the constructed formats list; one meeting lists only 94.
    assert {tuple(r.types) for r in _berlin() if r.raw["format_shared_id_list"] == "94"} == {("id:94",)}


# --- venue_type, formats and envelope on inline variants of a real meeting ---------------------------------


@pytest.mark.parametrize(
    ("venue_type", "hint"), [("1", "in_person"), ("2", "online"), ("3", "hybrid"), ("", None), ("9", None)]
)
def test_venue_type_to_attendance_hint(venue_type: str, hint: str | None) -> None:
    [record] = _parse_items([{**_gny_raw("2"), "venue_type": venue_type}])
    assert record.attendance_hint == hint


def test_formats_key_strings_used_without_shared_ids() -> None:
    [record] = _parse_items([{**_gny_raw("2"), "format_shared_id_list": ""}])
    assert record.types == ["M", "O", "St"]


def test_search_results_envelope_is_accepted() -> None:
    body = json.dumps({"meetings": [_gny_raw("2")], "formats": []}).encode()
    assert [r.name for r in bmlt.parse(_snapshot(body))] == ["Nothing Macho"]


def test_empty_result_gives_no_records() -> None:
    # A volume drop is the fetch layer's decision (expected_min_records), not the parser's.
    assert bmlt.parse(_snapshot(b"[]")) == []


# --- errors ------------------------------------------------------------------------------------------------


def test_search_results_not_json_is_a_parse_error() -> None:
    assert "not valid JSON" in str(_error(b"<html><body>Forbidden</body></html>"))


def test_parse_error_names_the_url() -> None:
    assert _url("GetSearchResults") in str(_error(GNY_MEETINGS[:4000]))


def test_search_results_not_a_list_is_a_parse_error() -> None:
    assert "expected a JSON array of objects (GetSearchResults)" in str(_error(b'{"error": "bad switcher"}'))


def test_search_results_list_of_strings_is_a_parse_error() -> None:
    assert "GetSearchResults" in str(_error(b'["2", "3"]'))


def test_formats_not_json_is_a_parse_error() -> None:
    assert "GetFormats" in str(_error(GNY_MEETINGS, b"<html></html>"))


def test_formats_not_a_list_is_a_parse_error() -> None:
    assert "expected a JSON array of objects (GetFormats)" in str(_error(GNY_MEETINGS, b'{"formats": 1}'))


def test_meeting_without_id_is_a_parse_error() -> None:
    meeting = {**_gny_raw("2"), "id_bigint": ""}
    assert "without id_bigint" in str(_error(json.dumps([meeting]).encode()))


def test_missing_formats_part_is_a_parse_error() -> None:
    snapshot = Snapshot("t", "f1", datetime(2026, 1, 1, tzinfo=UTC), (SnapshotPart("meetings", "u", GNY_MEETINGS),))
    with pytest.raises(ParseError, match="no part 'formats'"):
        bmlt.parse(snapshot)


# --- endpoint and fetch ------------------------------------------------------------------------------------


@pytest.mark.parametrize("root", ["https://bmlt.newyorkna.org/main_server", "https://bmlt.newyorkna.org/main_server/"])
def test_endpoint_with_or_without_trailing_slash(root: str) -> None:
    expected = "https://bmlt.newyorkna.org/main_server/client_interface/json/?switcher=GetSearchResults"
    assert bmlt.endpoint(root, "GetSearchResults") == expected


RECORDED = Path(__file__).parents[1] / "fixtures" / "bmlt" / "recorded"
MODERN_SEARCH = (RECORDED / "meeting-search-42.867970-day2.json").read_bytes()
"""A modern server's search asked with ``get_used_formats=1``: ``{"meetings": [...], "formats": [...]}``."""


def _fetch(search: bytes = b"[]") -> tuple[list[tuple[str, str]], list[SnapshotPart]]:
    source = Source(id="gny-na", name="GNY", fellowship="NA", kind="bmlt", url=ROOT)
    calls: list[tuple[str, str]] = []

    def get(name: str, url: str) -> SnapshotPart:
        calls.append((name, url))
        return SnapshotPart(name, url, search if name == "meetings" else b"[]")

    parts = bmlt.fetch(source, get)
    return calls, parts


def test_a_server_that_answers_the_used_formats_costs_two_requests() -> None:
    calls, _ = _fetch(MODERN_SEARCH)
    assert calls == [
        ("meetings", _url("GetSearchResults") + "&get_used_formats=1"),
        ("service_bodies", _url("GetServiceBodies")),
    ]


@pytest.mark.parametrize("search", [b"[]", GNY_MEETINGS, json.dumps({"meetings": []}).encode()],
                         ids=["empty", "legacy list", "envelope without formats"])  # fmt: skip
def test_a_server_that_ignores_get_used_formats_is_asked_for_its_formats(search: bytes) -> None:
    calls, _ = _fetch(search)
    assert calls == [
        ("meetings", _url("GetSearchResults") + "&get_used_formats=1"),
        ("formats", _url("GetFormats")),
        ("service_bodies", _url("GetServiceBodies")),
    ]


def test_a_search_that_is_not_json_asks_no_formats_and_fails_its_parse() -> None:
    calls, parts = _fetch(b"<html>Service Unavailable</html>")
    assert [name for name, _ in calls] == ["meetings", "service_bodies"]
    snapshot = Snapshot("t", "f1", datetime(2026, 1, 1, tzinfo=UTC), tuple(parts))
    with pytest.raises(ParseError, match="is not valid JSON"):
        bmlt.parse(snapshot)


def test_fetch_returns_what_get_returned() -> None:
    calls, parts = _fetch()
    assert [(p.name, p.url) for p in parts] == calls


def test_a_recorded_search_with_its_used_formats_parses_without_get_formats() -> None:
    """The recorded modern server's search (envelope shape): no formats part is needed, and a GetFormats part
    changes nothing."""
    search = SnapshotPart("meetings", _url("GetSearchResults") + "&get_used_formats=1", MODERN_SEARCH)
    bodies = SnapshotPart("service_bodies", _url("GetServiceBodies"), (RECORDED / "service-bodies.json").read_bytes())
    formats = SnapshotPart("formats", _url("GetFormats"), (RECORDED / "formats.json").read_bytes())
    when = datetime(2026, 1, 1, tzinfo=UTC)
    two = bmlt.parse(Snapshot("t", "f1", when, (search, bodies)))
    three = bmlt.parse(Snapshot("t", "f1", when, (search, formats, bodies)))

    assert len(two) == len(json.loads(MODERN_SEARCH)["meetings"]) == 53
    assert [(r.source_key, r.types) for r in two] == [(r.source_key, r.types) for r in three]
    assert any(r.types for r in two), "its meetings carry format key strings (no shared ids in this answer)"


def test_used_formats_map_format_ids_to_world_ids_as_get_formats_does() -> None:
    """GNY's search in the ``get_used_formats`` envelope (built here from its recorded search and GetFormats: the
    rows of the format ids its meetings use) gives every meeting the types the three-request fetch gives."""
    meetings = json.loads(GNY_MEETINGS)
    used_ids = {i.strip() for m in meetings for i in (m.get("format_shared_id_list") or "").split(",") if i.strip()}
    used = [f for f in json.loads(GNY_FORMATS) if f["id"] in used_ids]
    envelope = json.dumps({"meetings": meetings, "formats": used}).encode()
    search = SnapshotPart("meetings", _url("GetSearchResults") + "&get_used_formats=1", envelope)
    bodies = SnapshotPart("service_bodies", _url("GetServiceBodies"), GNY_SERVICE_BODIES)
    two = bmlt.parse(Snapshot("t", "f1", datetime(2026, 1, 1, tzinfo=UTC), (search, bodies)))

    assert len(used_ids) > 20 and len({f["id"] for f in used}) == len(used_ids)
    assert [(r.source_key, r.types) for r in two] == [(r.source_key, r.types) for r in _gny()]
    assert any(t in ("CLOSED", "OPEN") for r in two for t in r.types)


def test_fetch_urls_are_the_recorded_snapshot_urls() -> None:
    # sources/snapshots/index.yaml maps these exact URLs to the gny-na files the demo server serves.
    index = (GNY.parent / "index.yaml").read_text(encoding="utf-8")
    calls, _ = _fetch()
    assert [url for _, url in calls if f"url: {url}\n" in index] == [url for _, url in calls]
