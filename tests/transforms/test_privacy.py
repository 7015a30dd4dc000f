"""The redaction rule on real notes (the shared data's scrubbed contacts: person@example.org, 555-0100)."""

from __future__ import annotations

import pytest

from tests.transforms import realdata
from transforms.privacy import REDACTED, redact


def real_notes() -> list[tuple[str, str | None]]:
    """(note, the meeting's conference phone) of every real Meeting Guide note with a scrubbed contact."""
    notes = []
    for source_id in ("oc-aa", "nepa-aa", "sussex-aa", "alanon-ma", "sepia-aa", "sanjose-aa", "oiaa"):
        for record in realdata.records(source_id):
            for text in (record.notes, record.location_notes, record.conference_phone_notes):
                if text and ("example.org" in text or "555-0100" in text):
                    notes.append((text, record.conference_phone))
    return notes


def test_real_notes_have_contacts_to_redact() -> None:
    assert len(real_notes()) > 100


def test_no_contact_survives_in_real_notes() -> None:
    for text, phone in real_notes():
        cleaned = redact(text, keep_phone=phone)
        assert "example.org" not in cleaned and "555-0100" not in cleaned, text


def test_real_al_anon_note() -> None:
    """alanon-ma "25037 Par ents AFG": the dial-in was scrubbed to 555-0100; Zoom ids and passcodes stay."""
    note = "Zoom ID: 123 4567 890\npasscode: 123456\n\nDial-In Phone No.: 555-0100\nDial-In ID: 123 4567 890"
    assert redact(note, keep_phone="+19292056099,,1234567890#,,,,,##") == (
        "Zoom ID: 123 4567 890\npasscode: 123456\n\nDial-In Phone No.: [redacted]\nDial-In ID: 123 4567 890"
    )


def test_real_sanjose_conference_note_keeps_meeting_id() -> None:
    note = "Dial-In: 555-0100 Enter Meeting ID: 717 7182 8957# Password: 777644"
    assert redact(note) == "Dial-In: [redacted] Enter Meeting ID: 717 7182 8957# Password: 777644"


def test_the_meetings_own_conference_phone_is_kept() -> None:
    note = "Dial +1 669 900 9128 or call Bob at (646) 555-0199"
    assert redact(note, keep_phone="+16699009128,,71771828957#") == f"Dial +1 669 900 9128 or call Bob at {REDACTED}"
    assert redact(note) == f"Dial {REDACTED} or call Bob at {REDACTED}"


@pytest.mark.parametrize(
    "text",
    [
        "Contact person@example.org for the key",
        "email: first.last+aa@mail.example.co.uk",
        "Call 646-555-0199",
        "Call (646) 555-0199",
        "Call 646.555.0199",
        "Call +1 646 555 0199",
        "Call 1-800-555-1212",
        "Ruf an: +49 30 1234567",
        "Call 555-0100",
    ],
)
def test_contacts_redacted(text: str) -> None:
    assert REDACTED in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "Meeting ID: 857 7961 5129, Passcode: 005088",
        "Sun.4:30=Business Mtg, 7:00-8:00 PM",
        "Steps 1-2-3, years 2021-2022",
        "1937 West MacDade Blvd, Woodlyn, PA 19094",
        "Passcode 5550100",
        "GSO #112235",
    ],
)
def test_meeting_details_kept(text: str) -> None:
    assert redact(text) == text


def test_empty() -> None:
    assert redact(None) is None
    assert redact("") == ""
