"""Monthly meetings told from weekly ones, on the real notes of the recorded sources.

The same words ("1st Saturday", "last Friday of the month") describe monthly meetings and, far more often, a
weekly meeting's monthly variation; every example below is copied from a real feed or page.
"""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from extractors.html import intergroup_custom
from extractors.records import to_arrow
from foundation.source import Source
from tests.extractors.html.pages import one_page, read
from tests.transforms import realdata
from transforms.normalize import normalize
from transforms.recurrence import LAST_WEEK, WEEKLY, Recurrence, recurrence

SAT, SUN, MON, TUE, WED, THU, FRI = 6, 7, 1, 2, 3, 4, 5


@pytest.mark.parametrize(
    ("name", "notes", "weekday", "start", "weeks"),
    [
        ("Saturday Night", "Only held on the 1 st Saturday of the month", SAT, None, [1]),
        ("Gratitude", "Only held on the last Thursday of the month Potluck lunch", THU, None, [LAST_WEEK]),
        ("DP Harbor Monthly Speaker Birthday Group",
         "This meeting is held on the first Sunday of each month only. GSO# 123610", SUN, None, [1]),
        ("Women in the Sunlight of the Spirit",
         "Meeting occurs on the 2nd and 4th Sundays of the month only. Bring your own chair", SUN, None, [2, 4]),
        ("Happy, Joyous, Free (Transwomen) 2nd & 4th Fridays Only", None, FRI, None, [2, 4]),
        ("First Saturday Group", "Only meets 1st Saturday of the Month.  Meeting is in the Church Basement.", SAT,
         None, [1]),
        ("Redemption Group", "1st Saturday of the month only/to 3:15 pm/Convent/Rectory", SAT, None, [1]),
        ("BAGELS AND BIG BOOK", "Notes: NOTE: Meeting only meets on the 1st & 3rd Sunday of each month", SUN, None,
         [1, 3]),
        ("VILLAGE AGNOSTICS", "Notes: Sun.5:30pm meets only on the last Sunday of the month", SUN, 17 * 60 + 30,
         [LAST_WEEK]),
    ],
)  # fmt: skip
def test_monthly_when_the_meeting_is_held_only_on_some_weeks(name, notes, weekday, start, weeks) -> None:
    assert recurrence(name, notes, weekday, start) == Recurrence("monthly", weeks)


@pytest.mark.parametrize(
    ("name", "notes", "weekday", "start"),
    [
        ("1st Step Meeting", "A 1st Step meeting every week", MON, None),
        ("Step of the Month Club", None, TUE, None),
        ("Friday Night", "Last Friday of month is Traditions meeting", FRI, None),
        ("Saturday", "The last Saturday of each month is an open meeting.", SAT, None),
        ("Sunday", "Business meeting: 1st Sunday @ 10 am.", SUN, None),
        ("Wednesday", "Not held on the 2 nd Wednesday of the month", WED, None),
        ("Saturday", "Meets every week except the second Saturday of the month when it is the open Speaker Meeting",
         SAT, None),
        ("THE 12th STREET WORKSHOP", "Sun.4:30=Business Mtg Only 1st & Anniv Last Sunday", SUN, None),
        ("VILLAGE AGNOSTICS", "Notes: Sun.5:30pm meets only on the last Sunday of the month", SUN, 16 * 60),
        ("500477 Parent's Support AFG", "Effective May 2, meeting as an in-person, step meeting on the first "
         "Tuesday of the month ONLY at First Parish Bedford.\nThe rest of the month we will continue on Zoom.",
         TUE, None),
        ("Tuesday", "Only held on the 1 st Saturday of the month", TUE, None),  # another weekday's meeting
        ("MERRICK BELLMORE RECOVERY", "Notes: Anniv. Last Friday.\nOnly Tue. Step = Wheel Chair Accessible.", FRI,
         None),
    ],
)  # fmt: skip
def test_weekly_when_the_words_describe_a_weekly_meetings_variation(name, notes, weekday, start) -> None:
    assert recurrence(name, notes, weekday, start) == WEEKLY


def test_monthly_without_the_week_when_only_the_name_or_a_note_says_so() -> None:
    assert recurrence("25001 Monthly Business Meeting District 1", None, TUE) == Recurrence("monthly", None)
    notes = "Virtual Business meeting that meets one Sunday of the month for GR's & interested members."
    assert recurrence("District 6", notes, SUN) == Recurrence("monthly", None)


def test_all_39_st_paul_monthly_listings_are_monthly_and_no_other_st_paul_listing_is() -> None:
    body = read("intergroup_custom", "aastpaul_meeting_directory_2016.html")
    records = intergroup_custom.parse(one_page("http://www.aastpaul.org/?topic=8&article=76", body, "stpaul"))
    source = Source(id="stpaul", name="St Paul", fellowship="AA", kind="html:intergroup_custom",
                    url="http://www.aastpaul.org/?topic=8&article=76", timezone="America/Chicago")  # fmt: skip
    versions = normalize(to_arrow("stpaul", "stpaul@1", records), {"stpaul": source}).versions
    noted = pc.match_substring(versions["notes"], "Only held on the").fill_null(False)
    monthly = pc.equal(versions["frequency"], "monthly")
    assert pc.sum(noted).as_py() == 39
    assert versions.filter(noted)["frequency"].to_pylist() == ["monthly"] * 39
    assert pc.sum(pc.and_(monthly, pc.invert(noted))).as_py() == 0
    weeks = {w for row in versions.filter(noted)["weeks_of_month"].to_pylist() for w in row}
    assert weeks == {1, 2, 3, 4, LAST_WEEK}


def test_real_feeds_mark_only_the_meetings_their_words_restrict() -> None:
    result = normalize(realdata.staging(), realdata.SOURCES)
    monthly = result.versions.filter(pc.equal(result.versions["frequency"], "monthly"))
    by_source: dict[str, int] = {}
    for sid in monthly["source_id"].to_pylist():
        by_source[sid] = by_source.get(sid, 0) + 1
    # 13 "Monthly Business Meeting District N" (Al-Anon MA), the rest "only" on named weeks of their weekday.
    assert by_source == {"alanon-ma": 13, "nyc-aa": 3, "sepia-aa": 2, "sanjose-aa": 2, "sanjose-wp": 1, "oc-aa": 1}
    weekly = pc.equal(result.versions["frequency"], "weekly")
    assert pc.all(pc.is_null(result.versions.filter(weekly)["weeks_of_month"])).as_py()
