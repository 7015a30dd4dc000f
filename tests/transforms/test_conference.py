"""Conference URLs (allowlisted providers, meeting ids) and dial-in numbers from real feeds."""

from __future__ import annotations

import pytest

from transforms.conference import Conference, normalize_phone, parse_conference_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://us02web.zoom.us/j/4444564352?pwd=iVA64ItndXLEcwjaXKT0DS3HZoDyAl.1",  # nepa-aa
            Conference(
                "https://us02web.zoom.us/j/4444564352?pwd=iVA64ItndXLEcwjaXKT0DS3HZoDyAl.1", "zoom", "4444564352"
            ),
        ),
        ("https://zoom.us/j/8635848793 ", Conference("https://zoom.us/j/8635848793", "zoom", "8635848793")),
        ("zoom.us/j/8635848793", Conference("https://zoom.us/j/8635848793", "zoom", "8635848793")),
        ("https://zoom.us/my/someroom", Conference("https://zoom.us/my/someroom", "zoom", None)),
        (
            "https://meet.google.com/abc-defg-hij?authuser=0",
            Conference("https://meet.google.com/abc-defg-hij?authuser=0", "google_meet", "abc-defg-hij"),
        ),
        (
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_NDk2@thread.v2/0?context=x",
            Conference(
                "https://teams.microsoft.com/l/meetup-join/19%3ameeting_NDk2@thread.v2/0?context=x",
                "teams",
                "19:meeting_NDk2@thread.v2",
            ),
        ),
        (
            "https://teams.live.com/meet/9385582271571",
            Conference("https://teams.live.com/meet/9385582271571", "teams", "9385582271571"),
        ),
        ("https://discord.gg/abcXYZ", Conference("https://discord.gg/abcXYZ", "discord", "abcXYZ")),
    ],
)
def test_known_providers(url: str, expected: Conference) -> None:
    assert parse_conference_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "zoommtg://zoom.us/join?confno=123456789",  # app scheme
        "javascript:alert(1)",
        "ftp://zoom.us/j/123456789",
        "https://example.com/j/123456789",  # not a provider
        "http://evilzoom.us/j/123456789",  # suffix trick
        "https://zoom.us.evil.example/j/123456789",
        "see notes",
    ],
)
def test_untrusted_urls_dropped(url: str) -> None:
    assert parse_conference_url(url) == Conference(None, None, None)


@pytest.mark.parametrize(
    ("phone", "region", "e164"),
    [
        ("+16699009128,,71771828957#,,#,,777644#", "US", "+16699009128,,71771828957#,,#,,777644#"),  # sanjose
        ("+19292056099,,1234567890#,,,,,##", "US", "+19292056099,,1234567890#,,,,,##"),  # alanon-ma
        ("(646) 558-8656", "US", "+16465588656"),
        ("tel:+16465588656", "US", "+16465588656"),
        ("+1 312 626 6799 US (Chicago)", "US", "+13126266799"),
        ("030 12345678", "DE", "+493012345678"),
        ("555-0100", "US", None),  # the scrubbed placeholder is not a dialable number
        ("call us", "US", None),
    ],
)
def test_normalize_phone(phone: str, region: str, e164: str | None) -> None:
    assert normalize_phone(phone, region) == e164
