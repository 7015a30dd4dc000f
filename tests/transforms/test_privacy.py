"""The redaction rule on real notes (the fixtures' scrubbed contacts: person@example.org, 555-0100): members'
e-mail addresses and phone numbers go, the meeting's dial-in and access codes stay, full names become "First L."."""

from __future__ import annotations

import re

import pytest

from tests.transforms import realdata
from transforms.privacy import REDACTED, redact


def real_notes() -> list[tuple[str, str | None]]:
    """(note, the meeting's conference phone) of every real Meeting Guide note with a scrubbed contact."""
    notes = []
    for source_id in ("oc-aa", "nepa-aa", "sussex-aa", "alanon-ma", "sepia-aa", "sanjose-aa", "oiaa"):
        for record in realdata.records(source_id):
            for text in (record.notes, record.location_notes, record.conference_phone_notes):
                if text and ("example.org" in text or realdata.SCRUBBED_PHONE in text):
                    notes.append((text, record.conference_phone))
    return notes


def test_real_notes_have_contacts_to_redact() -> None:
    assert len(real_notes()) > 100


def test_no_personal_contact_survives_in_real_notes() -> None:
    """Every e-mail goes; the scrubbed number survives only as a dial-in, a meeting id, a passcode or in a link."""
    kept = 0
    for text, phone in real_notes():
        cleaned = redact(text, keep_phone=phone)
        assert "example.org" not in cleaned, text
        survivors = cleaned.count(realdata.SCRUBBED_PHONE)
        assert survivors <= realdata.kept_scrubbed_phones(cleaned), text
        kept += survivors
    assert kept > 50


# --- dial-ins, meeting ids, passcodes ----------------------------------------------------------------------


def test_a_dial_in_followed_by_its_access_code_is_kept() -> None:
    """sepia-aa: the note's number is the one in conference_phone (the fixtures' scrubbing changed only the note)."""
    note = "HYBRID - https://zoom.us/j/901964988 | Meeting ID: 901 964 988 | Password: 417417 | 555-0100,,901964988#"
    assert redact(note, keep_phone="+16465588656,,901964988#") == note


@pytest.mark.parametrize(
    "note",
    [
        # nepa-aa, sepia-aa, alanon-ma, sanjose-aa: the access code follows in words, or on the next line
        "Please dial 555-0100 with access code of 514510 when prompted.",
        "Step/Tradition meeting / Dial 555-0100, enter password 292 718-013 and press # twice",
        "Conference Call 555-0100 ID: 749881#",
        "Dial-In Phone No.: 555-0100\nDial-In ID: 123 4567 890",
        "Dial-In: 555-0100 Enter Meeting ID: 717 7182 8957# Password: 777644",
        "One tap mobile: 555-0100,,9013364499#",
    ],
)
def test_real_dial_ins_are_kept(note: str) -> None:
    assert redact(note) == note


@pytest.mark.parametrize(
    "note",
    [
        "Zoom ID: 689 828 1954\npasscode: 123456",  # alanon-ma: a 10-digit Zoom id looks like a phone number
        "Meeting ID: 843-6152-0987\nPassword: 07977",  # sepia-aa
        "Zoom meeting ID# 555-0100 password 123456",  # nepa-aa
        "Varied Format -Mtg. ID 555-0100 PW: 750118",
        "https://www.google.com/maps/place/Laguna+Beach,+CA+92651/@33.5454132,-117.7891234,17z",  # oc-aa
    ],
)
def test_meeting_ids_passcodes_and_links_are_not_phone_numbers(note: str) -> None:
    assert redact(note) == note


def test_the_meetings_own_conference_phone_is_kept() -> None:
    note = "Dial +1 669 900 9128 or call Bob at (646) 555-0199"
    assert redact(note, keep_phone="+16699009128,,71771828957#") == f"Dial +1 669 900 9128 or call Bob at {REDACTED}"


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        (
            "Newcomers call Kent L 555-0100 to meet face to face",
            f"Newcomers call Kent L {REDACTED} to meet face to face",
        ),
        ("ID: 146 436 684 - Call 555-0100 for Password", f"ID: 146 436 684 - Call {REDACTED} for Password"),
        ("Point of contact for meeting: Michael M. 555-0100", f"Point of contact for meeting: Michael M. {REDACTED}"),
        ("please call 555-0100 for location", f"please call {REDACTED} for location"),  # Seattle's address column
        ("Text 555-0100 for details", f"Text {REDACTED} for details"),
    ],
)
def test_real_members_phone_numbers_are_redacted(note: str, expected: str) -> None:
    assert redact(note) == expected


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
        "Call 555-0100 in advance",
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


# --- full names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("Ask for Robert Smithers.", "Ask for Robert S."),
        ("For a ride contact Jane Doe", "For a ride contact Jane D."),
        ("call Mary Ellen Jones after 6", "call Mary Ellen J. after 6"),
        ("Secretary: Patricia O'Neill", "Secretary: Patricia O."),
        ("Questions? Email Hope Garcia", "Questions? Email Hope G."),  # an everyday-word first name after a cue
    ],
)
def test_full_names_after_a_cue_word_keep_the_last_initial(note: str, expected: str) -> None:
    assert redact(note) == expected


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("Robert Smithers will chair the business meeting", "Robert S. will chair the business meeting"),
        ("Coffee by Linda Martinez and Tom.", "Coffee by Linda M. and Tom."),
    ],
)
def test_full_names_without_a_cue_word_keep_the_last_initial(note: str, expected: str) -> None:
    assert redact(note) == expected


@pytest.mark.parametrize(
    "note",
    [
        "Please email Gary R. for password",  # oc-aa
        "if you need help with directs, please call George B.",  # sepia-aa
        "ask for Bob S.",
        "Contact Christopher with any questions.",  # nepa-aa: a first name alone
        "Bill W. group",
    ],
)
def test_the_fellowships_first_name_and_last_initial_is_kept(note: str) -> None:
    assert redact(note) == note


@pytest.mark.parametrize(
    "text",
    [
        "St. John's Church, lower hall",
        "Dr. Bob's house tour",
        "Joe and Charlie Big Book study",
        "Park on Martin Luther King Jr Blvd",
        "Grace Hall, upstairs",
        "You can also mail a check to: HOD Online Group\nPO Box 6, Glen Mills, PA 19342",  # sepia-aa
        "Cross street: (Betw India & Kent Streets)",  # nyc-aa
        "534 Broadway corner Cherry La.",  # gny-na location_street: "La." is Lane, not a surname
        "Santa Ana/Tustin area - Across the Street from Foothill High School",  # oc-aa
        "Between St. Ann and Brook Level C",  # gny-na
        "@ Arthur Kill & Richmond Rds",  # gny-na: a waterway
        "Because Lino Lakes and Circle Pines share a Zip code",  # stpaul-aa
        "No Longer available online - In Person only",  # oc-aa
        "In Jan. and Feb. 2023, when it is snowing",  # alanon-ma
        "Una Luz en el Camino",  # stpaul-aa
    ],
)
def test_place_and_meeting_names_that_look_like_names_are_kept(text: str) -> None:
    assert redact(text) == text


def test_no_name_is_cut_in_any_real_note() -> None:
    """The real feeds name members only as "First L." (or not at all): the rule changes none of their notes'
    names — every cut would be a false positive."""
    changed = []
    for source_id in realdata.REAL_SOURCES:
        for record in realdata.records(source_id):
            for text in (record.notes, record.location_notes, record.name, record.group_name):
                cleaned = redact(text, record.conference_phone)
                only_contacts = ".+?".join(re.escape(part) for part in (cleaned or "").split(REDACTED))
                if text and not re.fullmatch(only_contacts, text, re.DOTALL):
                    changed.append((text, cleaned))
    assert changed == []


def test_empty() -> None:
    assert redact(None) is None
    assert redact("") == ""
