"""Clock times, durations and "updated" stamps as real sources write them."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foundation.timeparse import parse_duration, parse_time, parse_timestamp, schedule


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("18:30", 18 * 60 + 30),  # Meeting Guide
        ("18:30:00", 18 * 60 + 30),  # BMLT
        ("6:30 PM", 18 * 60 + 30),  # TSML CSV
        ("6:30pm", 18 * 60 + 30),
        ("6:30 p.m.", 18 * 60 + 30),
        ("9:30a", 9 * 60 + 30),  # Mat-Su Alaska schedule
        ("7:00a", 7 * 60),
        ("7pm", 19 * 60),
        ("12:00 AM", 0),  # New York export
        ("12:30 PM", 12 * 60 + 30),
        ("noon", 12 * 60),
        ("NOON", 12 * 60),  # Seattle table
        ("Midnight", 0),
        ("24:00", 0),
        ("0730", 7 * 60 + 30),
        (" 08:00 ", 8 * 60),
    ],
)
def test_parse_time(text: str, minutes: int) -> None:
    assert parse_time(text) == minutes


@pytest.mark.parametrize("text", ["", "7", "25:00", "13:00 PM", "0:00 AM", "18:60", "24:30", "tbd", "6:3", None])
def test_parse_time_rejects(text: str | None) -> None:
    assert parse_time(text) is None


@settings(deadline=None)  # the first example may load reference tables
@given(st.integers(0, 23), st.integers(0, 59))
def test_any_clock_time_in_every_style(hour: int, minute: int) -> None:
    twelve = hour % 12 or 12
    half = "am" if hour < 12 else "pm"
    expected = hour * 60 + minute
    for text in (
        f"{hour:02d}:{minute:02d}",
        f"{hour}:{minute:02d}:00",
        f"{twelve}:{minute:02d} {half.upper()}",
        f"{twelve}:{minute:02d}{half}",
        f"{twelve}:{minute:02d}{half[0]}",
    ):
        assert parse_time(text) == expected, text


@settings(deadline=None)
@given(st.text(max_size=12))
def test_parse_time_total(text: str) -> None:
    """Any input gives None or a minute of the day; never an exception."""
    result = parse_time(text)
    assert result is None or 0 <= result < 24 * 60


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("01:30:00", 90), ("00:35:00", 35), ("1:30", 90), ("90", 90), ("60 min", 60), ("24:00:00", 1440)],
)
def test_parse_duration(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["0", "00:00:00", "25:00:00", "1:75", "abc", "2000"])
def test_parse_duration_rejects(text: str) -> None:
    assert parse_duration(text) is None


def test_schedule_end_wins_over_duration() -> None:
    assert schedule("19:00", "20:15", "01:30:00") == (19 * 60, 20 * 60 + 15, 75, "source")


def test_schedule_duration_implies_the_end() -> None:
    assert schedule("14:00:00", None, "01:30:00") == (14 * 60, 15 * 60 + 30, 90, "duration")


def test_schedule_without_end_or_duration_invents_nothing() -> None:
    assert schedule("19:00", None, None) == (19 * 60, None, None, "none")
    assert schedule("19:00", "19:00", None) == (19 * 60, None, None, "none")  # end = start is no end
    assert schedule("23:59", None, "nonsense") == (23 * 60 + 59, None, None, "none")


def test_schedule_across_midnight() -> None:
    assert schedule("23:30", "00:30", None) == (23 * 60 + 30, 30, 60, "source")
    assert schedule("23:00", None, "120") == (23 * 60, 60, 120, "duration")
    assert schedule("20:00", "08:00", None) == (20 * 60, 8 * 60, 12 * 60, "source")


def test_schedule_end_far_before_start_is_no_end() -> None:
    assert schedule("19:00", "18:00", None) == (19 * 60, None, None, "none")
    assert schedule("19:00", "6:00 PM", "90") == (19 * 60, 20 * 60 + 30, 90, "duration")


def test_schedule_bad_start() -> None:
    assert schedule("later", "20:00", None) == (None, None, None, "none")


@settings(deadline=None)
@given(st.integers(0, 1439), st.integers(0, 1439))
def test_schedule_duration_is_end_minus_start_mod_day(start: int, end: int) -> None:
    s, e, d, source = schedule(f"{start // 60}:{start % 60:02d}", f"{end // 60}:{end % 60:02d}", None)
    assert s == start
    if source == "none":  # an end equal to the start, or more than 12 hours before it, is no end
        assert (e, d) == (None, None) and (end == start or (end - start) % 1440 > 12 * 60)
    else:
        assert source == "source" and e == end and (s + d) % 1440 == e and 1 <= d <= 1440


@pytest.mark.parametrize(
    ("text", "stamp"),
    [
        ("2023-08-29 15:56:59", datetime(2023, 8, 29, 15, 56, 59)),  # Meeting Guide
        ("2020-04-0416:50:58", datetime(2020, 4, 4, 16, 50, 58)),  # TSML template, run together
        ("8/29/2021", datetime(2021, 8, 29)),  # Google Sheets feed
        ("2024-03-14T17:19:14.287Z", datetime(2024, 3, 14, 17, 19, 14)),
        ("2022-13-01", None),
        ("yesterday", None),
    ],
)
def test_parse_timestamp(text: str, stamp: datetime | None) -> None:
    assert parse_timestamp(text) == stamp
