"""The ``meeting_guide`` family on the real recorded feeds in ``sources/snapshots/mg/``.

Provenance of every file, with the public repository it was copied from: ``sources/snapshots/SOURCE.md``. Inline feeds
are used only where no real file has the shape (a list-valued ``day``, contact values, broken bodies).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import fields
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from extractors import meeting_guide
from extractors.records import ParseError, Snapshot, SnapshotPart, SourceRecord, to_arrow
from foundation.source import Source

FEEDS = Path(__file__).parents[2] / "sources" / "snapshots" / "mg"
OC = "oc-aa_orange-county-ca_2023-08-31.json"
ALANON_MA = "alanonma_massachusetts_al-anon_2023-08-22.json"
SJ_SHEETS = "aasanjose-sheets_santa-clara-county-ca_2021-10.json"
URL = "https://example.org/wp-admin/admin-ajax.php?action=meetings"

# Item counts of each file as published (meetings, not weekdays); no file has a list-valued day.
FEED_COUNTS = {
    OC: 1967,
    "aasepia_se-pennsylvania_2022-10-14.json": 2038,
    "aaintergroupnepa_ne-pennsylvania_2026-03-20.json": 480,
    "aaintergroupnepa_ne-pennsylvania_2022-11-01.json": 552,
    "aasanjose-wp_santa-clara-county-ca_2019-07-26.json": 570,
    SJ_SHEETS: 693,
    "sussexaa_sussex-county-de_2022-09-01.json": 123,
    ALANON_MA: 360,
}


def _snapshot(body: bytes) -> Snapshot:
    return Snapshot(
        source_id="t",
        fetch_id="f1",
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
        parts=(SnapshotPart(meeting_guide.PART, URL, body),),
    )


def _parse(body: bytes) -> list[SourceRecord]:
    return meeting_guide.parse(_snapshot(body))


def _parse_items(items: Any) -> list[SourceRecord]:
    return _parse(json.dumps(items).encode())


@cache
def _feed(name: str) -> list[SourceRecord]:
    return _parse((FEEDS / name).read_bytes())


def _one(feed: str, key: str) -> SourceRecord:
    [record] = [r for r in _feed(feed) if r.source_key == key]
    return record


def _error(body: bytes) -> ParseError:
    with pytest.raises(ParseError) as info:
        _parse(body)
    return info.value


# --- every real feed ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("feed", "count"), FEED_COUNTS.items())
def test_one_record_per_item(feed: str, count: int) -> None:
    assert len(_feed(feed)) == count


@pytest.mark.parametrize("feed", FEED_COUNTS)
def test_source_key_is_the_slug_in_feed_order(feed: str) -> None:
    items = json.loads((FEEDS / feed).read_bytes())
    assert [r.source_key for r in _feed(feed)] == [item["slug"] for item in items]


@pytest.mark.parametrize("feed", FEED_COUNTS)
def test_raw_is_the_feed_item(feed: str) -> None:
    items = json.loads((FEEDS / feed).read_bytes())
    assert [r.raw for r in _feed(feed)] == items


@pytest.mark.parametrize("feed", FEED_COUNTS)
def test_records_fit_the_staging_table(feed: str) -> None:
    # Real feeds carry latitude/longitude as JSON numbers; the staging table stores them as text.
    assert to_arrow("t", "f1", _feed(feed)).num_rows == FEED_COUNTS[feed]


def test_oc_weekdays_are_iso() -> None:
    # Raw days in the file: 0: 245, 1: 309, 2: 295, 3: 281, 4: 287, 5: 278, 6: 271, null: 1.
    assert Counter(r.weekday for r in _feed(OC)) == {
        7: 245,
        1: 309,
        2: 295,
        3: 281,
        4: 287,
        5: 278,
        6: 271,
        None: 1,
    }


# --- weekday conversion on real records (Sunday = 0 → ISO 7) ------------------------------------------------


@pytest.mark.parametrize(
    ("feed", "slug", "weekday"),
    [
        (OC, "big-book-study-17", 7),  # day 0, Sunday
        (OC, "40-minutes-to-freedom", 1),  # day 1, Monday
        (OC, "tal-como-lo-ve-ella-3", 6),  # day 6, Saturday
        (ALANON_MA, "25037-par-ents-afg", 7),  # day 0
        (SJ_SHEETS, "crazy-corona-mens-meeting-6", 5),  # day 5, Friday
    ],
)
def test_weekday_from_sunday0(feed: str, slug: str, weekday: int) -> None:
    assert _one(feed, slug).weekday == weekday


@pytest.mark.parametrize(("slug", "weekday_raw"), [("big-book-study-17", "0"), ("tal-como-lo-ve-ella-3", "6")])
def test_weekday_raw_keeps_the_source_day(slug: str, weekday_raw: str) -> None:
    assert _one(OC, slug).weekday_raw == weekday_raw


# --- Orange County: 40 Minutes to Freedom ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "40 Minutes to Freedom"),
        ("weekday", 1),
        ("start_time", "19:30"),
        ("end_time", "20:15"),
        ("venue_name", "Watermark OC Church"),
        ("formatted_address", "3186 Pullman St, Costa Mesa, CA 92626, USA"),
        ("approximate", "no"),
        ("latitude", 33.6850173),
        ("longitude", -117.8720761),
        ("attendance_hint", "in_person"),
        ("types", ["C", "DR", "D", "EN", "M"]),
        ("source_url", "https://oc-aa.org/meetings/40-minutes-to-freedom/"),
        ("source_updated_at", "2023-08-29 15:56:59"),
        ("timezone", None),
        ("conference_url", None),
        ("notes", None),
        ("fellowship", None),
    ],
)
def test_oc_40_minutes_to_freedom(field: str, value: object) -> None:
    assert getattr(_one(OC, "40-minutes-to-freedom"), field) == value


def test_oc_location_notes() -> None:
    assert _one(OC, "women").location_notes == "Sunset Beach Fellowship Center (Thursday's Club)"


# --- a null day is kept, not dropped ---------------------------------------------------------------------


def test_oc_null_day_gives_no_weekday() -> None:
    assert _one(OC, "women").weekday is None


def test_oc_null_day_gives_no_weekday_raw() -> None:
    assert _one(OC, "women").weekday_raw is None


def test_oc_null_day_record_keeps_its_venue() -> None:
    assert _one(OC, "women").venue_name == "Thursday's Alano Club"


def test_oc_only_one_record_lacks_a_weekday() -> None:
    assert [r.source_key for r in _feed(OC) if r.weekday is None] == ["women"]


# --- Massachusetts Al-Anon: an online meeting ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "25037 Par ents AFG"),
        ("conference_url", "https://zoom.us/j/1234567890"),
        ("conference_phone", "+19292056099,,1234567890#,,,,,##"),
        (
            "notes",
            "Zoom ID: 123 4567 890\npasscode: 123456\n\nDial-In Phone No.: 555-0100\n"
            "Dial-In ID: 123 4567 890\nDial-In-passcode:\n\nVirtual",
        ),
        ("group_name", "District 25"),
        ("venue_name", "District 25"),
        ("location_notes", "Virtual Meeting"),
        ("approximate", "yes"),
        ("attendance_hint", "online"),
        ("types", ["O", "POA", "ONL"]),
        ("start_time", "21:00"),
        ("end_time", None),
    ],
)
def test_alanon_ma_online_meeting(field: str, value: object) -> None:
    assert getattr(_one(ALANON_MA, "25037-par-ents-afg"), field) == value


def test_alanon_ma_online_meetings_with_notes() -> None:
    assert sum(1 for r in _feed(ALANON_MA) if r.conference_url and r.notes) == 151


# --- San Jose (Google Sheets feed, 2021) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("group_name", "Crazy Corona"),
        ("conference_url_notes", "Meeting ID: 717 7182 8957 Password: 777644"),
        ("conference_phone", "+16699009128,,71771828957#,,#,,777644#"),
        ("conference_phone_notes", "Dial-In: 555-0100 Enter Meeting ID: 717 7182 8957# Password: 777644"),
        ("source_updated_at", "8/29/2021"),  # malformed for the spec; normalization's problem, kept as given
        ("attendance_hint", None),  # the sheets feed has no attendance_option
    ],
)
def test_sj_sheets_online_meeting(field: str, value: object) -> None:
    assert getattr(_one(SJ_SHEETS, "crazy-corona-mens-meeting-6"), field) == value


def test_sj_sheets_duplicate_slug_keeps_both_records() -> None:
    # The loader quarantines the second; the parser must not decide which one wins.
    venues = [r.venue_name for r in _feed(SJ_SHEETS) if r.source_key == "pass-it-on-group"]
    assert venues == ["Garden House", "Los Altos Youth Center"]


def test_sj_sheets_has_exactly_one_duplicate_key() -> None:
    counts = Counter(r.source_key for r in _feed(SJ_SHEETS))
    assert [key for key, n in counts.items() if n > 1] == ["pass-it-on-group"]


# --- contact fields stay in raw --------------------------------------------------------------------------

CONTACTS = {
    "contact_1_name": "Pat Example",
    "contact_1_email": "pat@example.org",
    "contact_1_phone": "555-0100",
    "email": "group@example.org",
    "phone": "555-0199",
}


def _with_contacts() -> SourceRecord:
    [record] = _parse_items([{"name": "Contact Test", "slug": "contact-test", "day": 2, **CONTACTS}])
    return record


def test_record_has_no_personal_contact_field() -> None:
    """Only the service entity's official contacts are read (publishable); a group's or person's never."""
    names = {f.name for f in fields(SourceRecord)}
    assert {n for n in names if "contact" in n or "email" in n or n == "phone"} == {"entity_email"}


def test_contact_values_are_not_read_into_any_field() -> None:
    record = _with_contacts()
    values = [getattr(record, f.name) for f in fields(SourceRecord) if f.name != "raw"]
    flat = {str(v) for value in values for v in (value if isinstance(value, list) else [value])}
    assert not flat & {str(v) for v in CONTACTS.values()}


def test_contact_values_are_kept_in_raw() -> None:
    raw = _with_contacts().raw
    assert {k: raw[k] for k in CONTACTS} == CONTACTS


def test_contact_values_appear_in_no_other_field() -> None:
    record = _with_contacts()
    values = {str(getattr(record, f.name)) for f in fields(SourceRecord) if f.name != "raw"}
    assert values & set(CONTACTS.values()) == set()


def test_real_contact_keys_are_only_in_raw() -> None:
    record = _one(OC, "tal-como-lo-ve-ella-2")
    only_raw = [k for k in ("email", "last_contact") if k in record.raw and not hasattr(record, k)]
    assert only_raw == ["email", "last_contact"]


# --- list-valued day: one record per day -----------------------------------------------------------------


def _multi_day(days: list[int]) -> list[SourceRecord]:
    return _parse_items([{"name": "Multi", "slug": "slug", "day": days, "time": "07:00"}])


def test_day_list_gives_one_record_per_day() -> None:
    assert len(_multi_day([1, 3])) == 2


def test_day_list_keys_carry_the_source_day() -> None:
    assert [r.source_key for r in _multi_day([1, 3])] == ["slug-1", "slug-3"]


@pytest.mark.parametrize(("days", "weekdays"), [([1, 3], [1, 3]), ([0, 6], [7, 6])])
def test_day_list_weekdays_are_iso(days: list[int], weekdays: list[int]) -> None:
    assert [r.weekday for r in _multi_day(days)] == weekdays


def test_day_list_records_share_the_other_fields() -> None:
    assert [(r.name, r.start_time) for r in _multi_day([1, 3])] == [("Multi", "07:00"), ("Multi", "07:00")]


def test_day_list_with_one_day_keeps_the_slug_as_key() -> None:
    assert [r.source_key for r in _multi_day([4])] == ["slug"]


def test_empty_day_list_keeps_the_meeting_without_weekday() -> None:
    assert [(r.source_key, r.weekday) for r in _multi_day([])] == [("slug", None)]


def test_types_as_a_comma_string_are_split() -> None:
    [record] = _parse_items([{"name": "T", "slug": "t", "day": 1, "types": "O, D,BE"}])
    assert record.types == ["O", "D", "BE"]


def test_item_without_slug_gets_a_positional_key() -> None:
    records = _parse_items([{"name": "A", "slug": "a", "day": 1}, {"name": "B", "day": 2}])
    assert [r.source_key for r in records] == ["a", "position-1"]


def test_latin1_feed_is_read() -> None:
    records = _parse('[{"name": "Café", "slug": "cafe", "day": 1}]'.encode("latin-1"))
    assert records[0].name == "Café"


def test_utf8_bom_is_accepted() -> None:
    records = _parse(b"\xef\xbb\xbf" + b'[{"name": "Bom", "slug": "bom", "day": 1}]')
    assert records[0].name == "Bom"


# --- errors ------------------------------------------------------------------------------------------------


def test_truncated_feed_is_a_parse_error() -> None:
    truncated = (FEEDS / OC).read_bytes()[:5000]
    assert "not valid JSON" in str(_error(truncated))


def test_parse_error_names_the_url() -> None:
    assert URL in str(_error(b"[{"))


def test_parse_error_names_the_source() -> None:
    assert _error(b"[{").source_id == "t"


def test_non_utf8_garbage_is_a_parse_error() -> None:
    # A latin-1 fallback must not let json's own exception escape.
    assert "not valid JSON" in str(_error(b"\xff\xfe<html>blocked</html>"))


def test_error_object_is_a_parse_error() -> None:
    body = b'{"error": "Unauthorized: invalid or missing key"}'
    assert "Unauthorized: invalid or missing key" in str(_error(body))


def test_object_that_is_not_a_list_is_a_parse_error() -> None:
    assert "expected a JSON array" in str(_error(b'{"meetings": []}'))


def test_list_containing_a_string_is_a_parse_error() -> None:
    assert "item 1 is a str" in str(_error(b'[{"name": "A", "slug": "a", "day": 1}, "oops"]'))


def test_array_of_objects_from_another_api_is_a_parse_error() -> None:
    error = str(_error(b'[{"id": 1, "title": "Event", "starts": "2026-01-01T19:00:00Z"}]'))
    assert "not Meeting Guide meetings; the first has id, starts, title" in error


def test_missing_part_is_a_parse_error() -> None:
    snapshot = Snapshot("t", "f1", datetime(2026, 1, 1, tzinfo=UTC), parts=())
    with pytest.raises(ParseError, match="no part 'meetings'"):
        meeting_guide.parse(snapshot)


def test_empty_array_gives_no_records() -> None:
    # The fetch layer's expected_min_records turns this into a failed source, not the parser.
    assert _parse(b"[]") == []


# --- fetch -------------------------------------------------------------------------------------------------


def test_fetch_asks_for_the_feed_url_once() -> None:
    source = Source(id="oc-aa", name="OC", fellowship="AA", kind="meeting_guide", url=URL)
    calls: list[tuple[str, str]] = []

    def get(name: str, url: str) -> SnapshotPart:
        calls.append((name, url))
        return SnapshotPart(name, url, b"[]")

    meeting_guide.fetch(source, get)
    assert calls == [("meetings", URL)]
