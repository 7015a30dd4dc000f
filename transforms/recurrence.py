"""How often a meeting happens: weekly (the default of every feed format), or monthly on given weeks.

No feed format has a field for it, so sources say it in words: St Paul's directory "Only held on the 1 st
Saturday of the month", a feed's note "Meeting occurs on the 2nd and 4th Sundays of the month only", a name
"Happy, Joyous, Free (Transwomen) 2nd & 4th Fridays Only" or "Monthly Business Meeting District 1". The same
words describe a weekly meeting's monthly variation far more often ("Last Sunday of the month is a Step
meeting", "Business meeting: 1st Monday", "Not held on the 2nd Wednesday"), so the rule is strict: the
weeks count only when the text says the meeting is held *only* then, on the meeting's own weekday, and no
"not", "except", "no" or "business" comes before it in the same sentence. Only the meeting's own text is
read (name and notes): location and group notes are shared by every meeting at the place or of the group.
"""

from __future__ import annotations

import re
from typing import NamedTuple

LAST_WEEK = -1
"""``weeks_of_month`` value for the last week of the month (1–5 are the first to the fifth)."""

WEEK_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", LAST_WEEK: "last"}
"""``weeks_of_month`` value → the word people write (and apps show)."""
_ORDINAL_WORDS = {word: week for week, word in WEEK_NAMES.items()}
_ORDINAL = r"(?:[1-5]\s?(?:st|nd|rd|th)\b|first|second|third|fourth|fifth|last)"
_ORDINALS = rf"(?P<weeks>{_ORDINAL}(?:\s*(?:,|&|\+|/|and)\s*{_ORDINAL})*)"
_DAY = r"(?P<day>mon|tue|wed|thu|fri|sat|sun)[a-z]*"
_OF_MONTH = r"(?:[ \t]+(?:of|in)[ \t]+(?:the|each|every)[ \t]+month)?"
_ONLY_BEFORE = re.compile(
    rf"\bonly\s+(?:(?:held|meets?|meeting|occurs?)\s+)?(?:on\s+)?(?:the\s+)?{_ORDINALS}\s+{_DAY}{_OF_MONTH}",
    re.IGNORECASE,
)
""""Only held on the 1 st Saturday of the month", "only meets on the 1st & 3rd Sunday of each month"."""
_ONLY_AFTER = re.compile(rf"\b{_ORDINALS}[ \t]+{_DAY}{_OF_MONTH}[ \t]+only\b", re.IGNORECASE)
"""'held on the first Sunday of each month only', "2nd & 4th Fridays Only"."""
_ONE_DAY_A_MONTH = re.compile(rf"\bmeets\s+one\s+{_DAY}\s+(?:of|a)\s+(?:the\s+)?month", re.IGNORECASE)
""""Business Meeting that meets one Sunday of the month" (the week is not given)."""
_MONTHLY_NAME = re.compile(r"\bmonthly\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:not|no|except|business|bus\.)\b", re.IGNORECASE)
_OTHER_WEEKS = re.compile(r"\b(?:rest of the month|other weeks?|all other|every other)\b", re.IGNORECASE)
""""The rest of the month we will continue on Zoom": the meeting goes on in the other weeks."""
_CLOCK = re.compile(r"(?<![\d:])(?P<h>1[0-2]|0?[1-9])(?::(?P<m>[0-5]\d))?\s*(?P<ampm>[ap])\.?m?\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.;!?\n]\s")
_WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}


CANDIDATE = r"(?i)\bonly\b|\bmonthly\b|\bone\s+\w+\s+(?:of|a)\s+(?:the\s+)?month"
"""Texts any rule here could read as monthly (a vectorized pre-filter: every other text is weekly)."""


class Recurrence(NamedTuple):
    frequency: str
    weeks_of_month: list[int] | None
    """Weeks of the month (1–5, ``LAST_WEEK`` = last), sorted with the last week at the end; ``None`` when
    weekly, or monthly on weeks the source does not name."""


WEEKLY = Recurrence("weekly", None)


def _weeks(text: str) -> list[int]:
    found = re.findall(_ORDINAL, text, flags=re.IGNORECASE)
    weeks = {_ORDINAL_WORDS.get(w.lower(), int(w[0]) if w[0].isdigit() else 0) for w in found}
    return sorted(weeks - {0}, key=lambda w: (w == LAST_WEEK, w))


def _clause_start(text: str, at: int) -> int:
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, at)]
    return ends[-1] if ends else 0


def _other_time(prefix: str, start: int | None) -> bool:
    """The clause names a clock time that is not the meeting's start ("Sun.5:30pm meets only on …" in the
    notes a listing shares between its 4 pm and 5:30 pm meetings)."""
    times = [int(m["h"]) % 12 * 60 + int(m["m"] or 0) + (720 if m["ampm"].lower() == "p" else 0)
             for m in _CLOCK.finditer(prefix)]  # fmt: skip
    return bool(times) and start not in times


def _monthly_weeks(text: str, weekday: int | None, start: int | None) -> list[int] | None:
    """Weeks a text restricts the meeting to, when it does (on the meeting's own weekday and time)."""
    if _OTHER_WEEKS.search(text):
        return None
    for pattern in (_ONLY_BEFORE, _ONLY_AFTER):
        for match in pattern.finditer(text):
            prefix = text[_clause_start(text, match.start()) : match.start()]
            if _WEEKDAYS[match["day"][:3].lower()] != weekday or _NEGATION.search(prefix):
                continue
            if not _other_time(prefix, start) and (weeks := _weeks(match["weeks"])):
                return weeks
    return None


def recurrence(name: str | None, notes: str | None, weekday: int | None, start: int | None = None) -> Recurrence:
    """The meeting's recurrence from its own name and notes (``weekday`` ISO, 1 = Monday … 7 = Sunday;
    ``start`` in minutes after midnight)."""
    for text in (name, notes):
        if text and (weeks := _monthly_weeks(text, weekday, start)):
            return Recurrence("monthly", weeks)
    if (name and _MONTHLY_NAME.search(name)) or any(
        text and (m := _ONE_DAY_A_MONTH.search(text)) and _WEEKDAYS[m["day"][:3].lower()] == weekday
        for text in (name, notes)
    ):
        return Recurrence("monthly", None)
    return WEEKLY
