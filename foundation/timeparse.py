"""Clock times and durations as sources write them, to minutes after midnight.

Feeds say "18:30", "18:30:00", "6:30 PM", "6:30pm", "7:00a", "noon", "12:00 AM"; HTML directories say
"NOON" or "Midnight". One parser serves every family, so a time means the same whatever its source.
"""

from __future__ import annotations

import re
from datetime import datetime

MINUTES_PER_DAY = 24 * 60
MAX_OVERNIGHT_MINUTES = 12 * 60
"""Longest meeting an end before the start may imply: 23:30–00:30 crosses midnight, 19:00–18:00 is an error."""

_WORDS = {"noon": 12 * 60, "midday": 12 * 60, "midnight": 0, "mid-night": 0, "midnite": 0}
_CLOCK = re.compile(
    r"""^(?P<h>\d{1,2})(?:[:.h](?P<m>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?)?
        \s*(?P<ampm>[ap])?\.?\s*(?:m\.?)?$""",
    re.VERBOSE,
)
_MILITARY = re.compile(r"^(?P<h>[01]\d|2[0-4])(?P<m>[0-5]\d)$")
_DURATION_MINUTES = re.compile(r"^(?P<n>\d{1,4})\s*(?:m|min|mins|minutes)?$")


def parse_time(value: str | None) -> int | None:
    """Minutes after midnight (0–1439), or ``None`` when ``value`` is not a clock time.

    "24:00" is midnight (0). A bare hour needs am/pm ("7pm"); "7" alone is ambiguous and rejected.
    """
    if value is None:
        return None
    text = value.strip().lower()
    if text in _WORDS:
        return _WORDS[text]
    if match := _MILITARY.match(text):
        hour, minute, ampm = int(match["h"]), int(match["m"]), None
    elif match := _CLOCK.match(text):
        if match["m"] is None and match["ampm"] is None:
            return None
        hour, minute, ampm = int(match["h"]), int(match["m"] or 0), match["ampm"]
    else:
        return None
    if minute > 59:
        return None
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "p" else 0)
    elif hour > 24 or (hour == 24 and minute):
        return None
    return (hour * 60 + minute) % MINUTES_PER_DAY


def parse_duration(value: str | None) -> int | None:
    """Length in minutes from "01:30:00", "1:30" (hours:minutes) or "90" / "90 min"; ``None`` if invalid.

    Valid lengths are 1 minute to 24 hours.
    """
    if value is None:
        return None
    text = value.strip().lower()
    if match := _DURATION_MINUTES.match(text):
        minutes = int(match["n"])
    else:
        parts = text.split(":")
        if not 2 <= len(parts) <= 3 or not all(p.isdigit() and len(p) <= 2 for p in parts):
            return None
        hours, mins = int(parts[0]), int(parts[1])
        if mins > 59:
            return None
        minutes = hours * 60 + mins
    return minutes if 0 < minutes <= MINUTES_PER_DAY else None


def schedule(
    start: str | None, end: str | None, duration: str | None
) -> tuple[int | None, int | None, int | None, str]:
    """(start, end, duration in minutes, where the end came from) from what the source gave.

    ``start`` is ``None`` when unparseable. End wins over duration when both are given ("source"); a
    duration alone implies the end ("duration"). An end before the start crosses midnight (duration is taken
    modulo 24 h) unless the meeting would then last more than ``MAX_OVERNIGHT_MINUTES``; such an end, like
    an end equal to the start, is treated as missing (a typo or a swapped am/pm, not a 23-hour meeting).
    Without either, end and duration stay unknown ("none"): nothing is invented, and apps apply their own
    default (Meeting Guide apps assume an hour).
    """
    start_min = parse_time(start)
    if start_min is None:
        return None, None, None, "none"
    end_min = parse_time(end)
    if end_min is not None and end_min != start_min:
        length = (end_min - start_min) % MINUTES_PER_DAY
        if end_min > start_min or length <= MAX_OVERNIGHT_MINUTES:
            return start_min, end_min, length, "source"
    if (length := parse_duration(duration)) is None:
        return start_min, None, None, "none"
    return start_min, (start_min + length) % MINUTES_PER_DAY, length, "duration"


_CLOCK_PART = r"(?:[T\s]*(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?)?"
_STAMP = re.compile(r"^(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})" + _CLOCK_PART)
_US_DATE = re.compile(r"^(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})" + _CLOCK_PART)


def parse_timestamp(value: str | None) -> datetime | None:
    """A source's "updated" stamp as a naive datetime: ISO ("2023-08-29 15:56:59", "…T…Z"), the
    run-together "2020-04-0416:50:58" of TSML CSV exports, or US "8/29/2021"; ``None`` if unreadable."""
    if value is None:
        return None
    match = _STAMP.match(value.strip()) or _US_DATE.match(value.strip())
    if match is None:
        return None
    try:
        return datetime(
            int(match["y"]), int(match["mo"]), int(match["d"]),
            int(match["h"] or 0), int(match["mi"] or 0), int(match["s"] or 0),
        )  # fmt: skip
    except ValueError:
        return None
