"""The bad-record corpus: one Meeting Guide feed of records that each break one rule, and their fates.

Every record is a valid meeting except for the one thing it tests, so its outcome shows what that thing
does: quarantined with a reason, or published cleaned, redacted or intact. Why a feed and not unit inputs:
a record passes staging checks, normalization, resolution and the release gate before it is published,
and any of them could drop, mangle or leak it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any

SOURCE_ID = "bad-records"
PHONE = "+16465588656"
"""The meetings' own dial-in line: public, so it stays in notes."""


@dataclass(frozen=True)
class Quarantined:
    reason: str
    value: str | None = None
    """The offending value the quarantine row shows (``None``: not checked)."""


@dataclass(frozen=True)
class Published:
    fields: dict[str, Any] = field(default_factory=dict)
    """Published field → expected value (``meetings.parquet``)."""


@dataclass(frozen=True)
class BadRecord:
    slug: str
    problem: str
    item: dict[str, Any]
    """What differs from a valid meeting."""
    outcome: Quarantined | Published

    @property
    def expected(self) -> str:
        if isinstance(self.outcome, Quarantined):
            return f"quarantined: {self.outcome.reason}" + (
                f" (value {self.outcome.value!r})" if self.outcome.value else ""
            )
        return "published with " + ", ".join(f"{k}={show(v)}" for k, v in self.outcome.fields.items())


def show(value: Any) -> str:
    """A value as the fault report prints it: text quoted, everything else (times, numbers, None) plain."""
    return repr(value) if isinstance(value, str) else str(value)


def valid(slug: str, **changes: Any) -> dict[str, Any]:
    """A complete, valid meeting (Scranton, PA) with ``changes``."""
    return {
        "slug": slug,
        "name": f"Corpus {slug}",
        "day": 2,
        "time": "19:00",
        "end_time": "20:00",
        "location": f"Hall {slug}",
        "address": f"{100 + sum(map(ord, slug)) % 800} Wyoming Avenue",
        "city": "Scranton",
        "state": "PA",
        "postal_code": "18503",
        "country": "US",
        "types": ["O"],
    } | changes


LONG_NAME = "Serenity " * 1200
RTL_NAME = "\u05e7\u05d1\u05d5\u05e6\u05ea \u05ea\u05e7\u05d5\u05d5\u05d4 \u200fمجموعة الأمل 🌅"
"""Hebrew and Arabic (with a right-to-left mark) and an emoji."""
RTL_NOTES = "נפגשים בקומה 2 · نلتقي في الطابق الثاني 🙏🏽 👨‍👩‍👧"

CORPUS = [
    BadRecord("weekday-9", "day 9 (Meeting Guide days are 0–6)", {"day": 9},
              Quarantined("dq:weekday_present", "9")),
    BadRecord("time-25-61", 'time "25:61"', {"time": "25:61"}, Quarantined("bad_time", "25:61")),
    BadRecord("end-before-start", "ends an hour before it starts (19:00–18:00): no end, none invented",
              {"end_time": "18:00"},
              Published({"start_time": time(19), "end_time": None, "duration_min": None, "end_time_source": "none"})),
    BadRecord("overnight", "ends after midnight (23:30–00:30), which is fine", {"time": "23:30", "end_time": "00:30"},
              Published({"start_time": time(23, 30), "end_time": time(0, 30), "duration_min": 60})),
    BadRecord("latlon-swapped", "latitude and longitude swapped", {"latitude": -75.6624, "longitude": 41.4090},
              Published({"geo_precision": "postal", "timezone": "America/New_York"})),
    BadRecord("null-island", "coordinates (0, 0)", {"latitude": 0, "longitude": 0},
              Published({"geo_precision": "postal", "timezone": "America/New_York"})),
    BadRecord("unknown-country", 'country "Atlantis"', {"country": "Atlantis"}, Published({"country": "US"})),
    BadRecord("script-name", "a <script> element in the name",
              {"name": "<script>alert('pwned')</script>Serenity Group"}, Published({"name": "Serenity Group"})),
    BadRecord("script-notes", "script, onerror and javascript: markup in the notes",
              {"notes": 'Use the side door.<script src="https://evil.example/x.js"></script>'
                        '<img src=x onerror="alert(1)"><a href="javascript:alert(1)">Map</a>'},
              Published({"notes": "Use the side door.Map"})),
    BadRecord("entity-script", "a script element hidden in HTML entities",
              {"notes": "&lt;script&gt;alert(1)&lt;/script&gt;Bring a friend"}, Published({"notes": "Bring a friend"})),
    BadRecord("javascript-text", "a bare javascript: URL as the name's text",
              {"name": "javascript:alert(document.cookie)//Hope Group"},
              Published({"name": "alert(document.cookie)//Hope Group"})),
    BadRecord("javascript-links", "javascript: as the meeting URL and the conference URL",
              {"url": "javascript:alert(1)", "conference_url": "javascript:alert(1)"},
              Published({"source_url": None, "conference_url": None})),
    BadRecord("data-url", "a data: URL as the conference URL",
              {"conference_url": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="},
              Published({"conference_url": None})),
    BadRecord("long-name", f"a {len(LONG_NAME) // 1000} kB name", {"name": LONG_NAME},
              Quarantined("name_too_long")),
    BadRecord("duplicate", "a slug used twice in one feed (first copy)", {"name": "First Of Two"},
              Published({"name": "First Of Two"})),
    BadRecord("duplicate", "a slug used twice in one feed (second copy)", {"name": "Second Of Two"},
              Quarantined("dq:source_key_unique_within_fetch", "duplicate")),
    BadRecord("nul-bytes", "NUL bytes in the name and the notes",
              {"name": "Hope\x00 Group", "notes": "Bring\x00 a friend"},
              Published({"name": "Hope Group", "notes": "Bring a friend"})),
    BadRecord("emoji-rtl", "emoji and right-to-left scripts", {"name": RTL_NAME, "notes": RTL_NOTES},
              Published({"name": RTL_NAME, "notes": RTL_NOTES})),
    BadRecord("mojibake", "UTF-8 read as cp1252 (CafÃ©)", {"name": "CafÃ© Serenity"},
              Published({"name": "Café Serenity"})),
    BadRecord("contacts-in-notes", "a personal e-mail address and phone number in the notes",
              {"notes": "Questions? Mail bob.smith@example.org or call Bob at (570) 555-0142."},
              Published({"notes": "Questions? Mail [redacted] or call Bob at [redacted]."})),
    BadRecord("dial-in-in-notes", "the meeting's own dial-in number beside a member's phone",
              {"conference_phone": PHONE, "notes": "Dial +1 646 558 8656, or text Sue at 570.555.0199"},
              Published({"notes": "Dial +1 646 558 8656, or text Sue at [redacted]", "conference_phone": PHONE})),
    BadRecord("full-name-in-notes", "a member's full name in the notes, and the fellowships' own First L.",
              {"notes": "Ask for Robert Smithers. Coffee by George B."},
              Published({"notes": "Ask for Robert S. Coffee by George B."})),
    BadRecord("dial-in-with-code-in-notes", "the dial-in with its access code, the same line as conference_phone",
              {"conference_phone": PHONE, "notes": "Dial-in: +1 646 558 8656,,901964988#"},
              Published({"notes": "Dial-in: +1 646 558 8656,,901964988#"})),
    BadRecord("contact-in-name", "an e-mail address in the name", {"name": "Hope Group (hope@example.org)"},
              Published({"name": "Hope Group ([redacted])"})),
]  # fmt: skip


def feed() -> list[dict[str, Any]]:
    return [valid(record.slug, **record.item) for record in CORPUS]
