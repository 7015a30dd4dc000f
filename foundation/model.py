"""The canonical meeting, declared once.

``CANONICAL_FIELDS`` is the data dictionary (rendered to ``docs/data-dictionary.md`` by
``python -m warehouse.dictionary``), the column list of ``core.meeting_versions`` (a test checks the
migration against it) and the column order of published files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

WEEKDAYS = {1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday", 6: "Saturday", 7: "Sunday"}
ATTENDANCE = ("in_person", "online", "hybrid", "inactive")
GEO_PRECISION = ("rooftop", "postal", "none")
TIMEZONE_SOURCES = ("source", "coordinates", "postal", "city", "state", "registry")
END_TIME_SOURCES = ("source", "duration", "none")
COORDINATES_SOURCES = ("source", "postal", "none")
FREQUENCIES = ("weekly", "monthly")
OPEN_CLOSED = ("open", "closed")


@cache
def iana_zones() -> frozenset[str]:
    """The IANA time zone names, read once: ``available_timezones()`` walks the zoneinfo tree (4 ms a call),
    and a national registry validates thousands of sources."""
    return frozenset(available_timezones())


FELLOWSHIPS = (
    "AA", "NA", "AL-ANON", "ALATEEN", "CA", "CMA", "OA", "GA", "CODA", "SAA", "SLAA", "SA", "SCA", "MA",
    "HA", "ACA", "EA", "DA", "DRA", "FA", "SMART", "LIFERING", "WFS", "RD", "RR", "CR", "DBSA", "NAMI",
    "NAR-ANON", "GAM-ANON", "COSA", "S-ANON", "CLA", "UA", "SOS", "MM", "RI", "SZA", "OTHER",
)  # fmt: skip


@dataclass(frozen=True)
class CanonicalField:
    name: str
    type: str
    """DuckDB type."""
    description: str
    allowed: str = ""
    filled_from: str = ""
    """How normalization computes it from the record fields it reads (``inputs``)."""
    inputs: tuple[str, ...] = ()
    """The ``SourceRecord`` fields whose value it carries, normalized (the fidelity contract joins on these)."""
    derived: bool = False
    """Computed by the pipeline rather than said by the source (``filled_from`` says how)."""
    evidence: tuple[str, ...] = ()
    """Further record fields it is derived from when ``inputs`` say nothing (a ZIP code's city, a city's zone)."""


def _field(
    name: str,
    type: str,
    description: str,
    allowed: str = "",
    filled_from: str = "",
    inputs: tuple[str, ...] = (),
    derived: bool = False,
    evidence: tuple[str, ...] = (),
) -> CanonicalField:
    if derived:
        inputs, evidence = (), (*inputs, *evidence)
    return CanonicalField(name, type, description, allowed, filled_from, inputs, derived, evidence)


_PLACE = ("venue_name", "address", "city", "region_code", "postal_code", "country", "formatted_address")
_TEXT = "plain text (HTML removed, encoding repaired), personal e-mails/phones redacted"

CANONICAL_FIELDS: tuple[CanonicalField, ...] = (
    _field("source_id", "VARCHAR", "Registry id of the source (stable forever).", "", "the registry entry's `id`"),
    _field("source_key", "VARCHAR", "The source's own id of the record, per weekday.", "",
           "the family's key (slug, id), or a hash of stable fields when the source has none", ("source_key",)),
    _field("fetch_id", "VARCHAR", "The fetch whose snapshot this version was parsed from."),
    _field("fellowship", "VARCHAR", "Canonical fellowship code.", ", ".join(FELLOWSHIPS),
           "the record's own fellowship (multi-fellowship feeds) through `transforms/data/fellowship_aliases.csv` "
           "(\"Al-Anon\" → AL-ANON; a name the table does not know → OTHER), else the registry's `fellowship`",
           ("fellowship",)),
    _field("name", "VARCHAR", "Meeting name.", "",
           f"{_TEXT}. Blank or a NULL literal → quarantine", ("name",)),
    _field("group_name", "VARCHAR", "Group that holds the meeting, when given.", "", _TEXT, ("group_name",)),
    _field("group_notes", "VARCHAR", "Notes about the group (shared by its meetings).", "", _TEXT, ("group_notes",)),
    _field("district", "VARCHAR", "The service district the source files the meeting under.", "",
           "plain text", ("district",)),
    _field("website", "VARCHAR", "The group's own website (http/https).", "",
           "kept when it is an http(s) URL", ("website",)),
    _field("weekday", "TINYINT", "Day of the week, ISO 8601: 1 = Monday … 7 = Sunday.", "1–7",
           "converted at the edge by the family (Meeting Guide 0 = Sunday, BMLT 1 = Sunday, day names); a "
           "listing on several days is one record per day", ("weekday",)),
    _field("start_time", "TIME", "Local start time (wall clock in `timezone`).", "00:00–23:59",
           "\"18:30\", \"18:30:00\", \"6:30 PM\", \"7:00a\", \"noon\", \"12:00 AM\"", ("start_time",)),
    _field("end_time", "TIME", "Local end time; before `start_time` means the meeting crosses midnight. "
           "Null when the source gave neither an end nor a duration: apps apply their own default "
           "(Meeting Guide apps assume an hour).", "",
           "the source's end time; else start + the source's duration (`end_time_source` says which). An end "
           "equal to the start, or one that would make the meeting last over 12 hours, is treated as missing",
           ("end_time", "duration"), evidence=("start_time",)),
    _field("duration_min", "SMALLINT", "Length in minutes; null when `end_time` is.", "1–1440",
           "end − start (modulo 24 h), or the source's duration (\"01:30:00\", \"90\")",
           ("duration", "end_time"), evidence=("start_time",)),
    _field("end_time_source", "VARCHAR", "Where `end_time` came from.", ", ".join(END_TIME_SOURCES),
           "`source`: the source's end time; `duration`: start + the source's duration; `none`: neither given "
           "(end and duration null, nothing invented)", ("end_time", "duration"), derived=True),
    _field("frequency", "VARCHAR", "How often the meeting is held on its weekday.", ", ".join(FREQUENCIES),
           "`monthly` when the meeting's own name or notes restrict it to weeks of the month (\"Only held on "
           "the 1 st Saturday of the month\", \"2nd & 4th Fridays Only\") or call it monthly; else `weekly`, "
           "the convention of every feed format (`transforms/recurrence.py`)", ("name", "notes"), derived=True),
    _field("weeks_of_month", "TINYINT[]", "The weeks of the month a monthly meeting is held.", "1–5, −1 = last",
           "the weeks the text names (\"1st & 3rd\" → [1, 3], \"last\" → [−1]); null when weekly or when the "
           "source does not say which week", ("name", "notes"), derived=True),
    _field("timezone", "VARCHAR", "IANA time zone. Weekly meetings are never stored in UTC.", "IANA names",
           "the first of: the record's zone when it is an IANA name; the zone containing its coordinates "
           "(timezonefinder); its US ZIP code's; its US city's (city + state, `transforms/gazetteer.py`); its "
           "state's or province's when it lies in one zone; the registry's `timezone` (or the zone of its "
           "`region`). None of them → quarantine `no_timezone`",
           ("timezone",), evidence=("latitude", "longitude", "postal_code", "city", "region_code", "country",
                                    "formatted_address", "address")),
    _field("timezone_source", "VARCHAR", "Where the time zone came from.", ", ".join(TIMEZONE_SOURCES),
           "`source` (the record), `coordinates`, `postal` (ZIP), `city`, `state` (or province), `registry`",
           ("timezone", "latitude", "longitude", "postal_code", "city", "region_code"), derived=True),
    _field("attendance", "VARCHAR", "How people attend.", ", ".join(ATTENDANCE),
           "the source's own attendance (Meeting Guide `attendance_option`, BMLT `venue_type` 1/2/3) when given; "
           "else BMLT HY/HYBR → hybrid, VM/WEB → online; else as the 12 Step Meeting List derives it: TC + "
           "online access → online, TC alone → inactive, online access (a conference URL on a known host, a "
           "dial-in or ONL) with an exact address → hybrid, without → online. No online access: in_person when "
           "the source gives a place (a street, a place we could not parse, a venue or coordinates), inactive "
           "when it gives none — or when the source itself marks its address approximate. Exact = the source's "
           "`approximate` is no, or (not given) a street line or an unparsed place",
           ("attendance_hint", "types", "conference_url", "conference_phone", "approximate", *_PLACE,
            "latitude", "longitude"), derived=True),
    _field("venue_name", "VARCHAR", "Name of the place (church, hall, club).", "",
           "the source's venue; else a place name in front of the street (\"Fifth Av Presbyterian Church, "
           "7 West 55th Street\", usaddress)", ("venue_name",), evidence=("address", "formatted_address")),
    _field("address_line", "VARCHAR", "Street address; US: USPS suffixes and directionals (\"7 W 55th St\"). "
           "Floor, room and entrance details go to `location_notes`.", "",
           "the source's street, or the street part of a whole \"street, city, ST ZIP, country\" line; the parts "
           "after the street (\"Basement\", \"2nd Floor, Room 206\") move to `location_notes`",
           ("address", "formatted_address")),
    _field("city", "VARCHAR", "City or municipality.", "",
           "the source's city, or from the formatted address; the US ZIP code's city when missing",
           ("city",), evidence=("formatted_address", "address", "postal_code")),
    _field("region_code", "VARCHAR", "State or province; US and Canada as two-letter codes.", "",
           "the source's state (\"New York\" → NY), or from the formatted address; the US ZIP code's state "
           "when missing", ("region_code",), evidence=("formatted_address", "address", "postal_code")),
    _field("postal_code", "VARCHAR", "Postal code; US ZIP as five digits, zero-padded.", "",
           "the source's postal code or from the formatted address; numeric codes that lost leading zeros in a "
           "spreadsheet (\"2138\", \"2138.0\") are padded (US, DE, FR, ES, IT, MX); a US value without a digit "
           "(\"USA\", \"NY\") is dropped",
           ("postal_code",), evidence=("formatted_address", "address")),
    _field("postal_code_ext", "VARCHAR", "ZIP+4 extension, when given.", "4 digits", "ZIP+4 suffix",
           ("postal_code",), evidence=("formatted_address", "address")),
    _field("country", "VARCHAR", "ISO 3166-1 alpha-2 country code.", "US, CA, DE, …",
           "the source's country or the last part of the formatted address (\"USA\", \"U.S.A\", \"United "
           "States\", \"Deutschland\" …); blank or unknown → the registry's `country`",
           ("country",), evidence=("formatted_address", "address")),
    _field("unparsed_address", "VARCHAR", "The place as the source wrote it, when it could not be read into "
           "street, city, state and postal code; the meeting stays in person (counted `address_unparsed`).", "",
           "the source's formatted address (else its address line), kept when no street came out of it and it "
           "says more than the city, state, postal code and country read from it",
           ("formatted_address", "address")),
    _field("source_regions", "VARCHAR[]", "The source's own region labels, most general first.", "",
           "Meeting Guide `regions`, else `region` > `sub_region`; BMLT county > city subsection > "
           "neighbourhood; plain text, repeated labels once", ("source_regions",)),
    _field("latitude", "DOUBLE", "WGS 84 latitude; invalid coordinates are dropped, not guessed.", "−90–90",
           "the source's coordinates when valid: numeric, in range, not (0, 0), on land and in a time zone of the "
           "record's country (swapped pairs and placeholders abroad fail this); else the US ZIP centroid "
           "(`coordinates_source` says which)", ("latitude",), evidence=("longitude", "postal_code")),
    _field("longitude", "DOUBLE", "WGS 84 longitude.", "−180–180", "as `latitude`",
           ("longitude",), evidence=("latitude", "postal_code")),
    _field("geo_precision", "VARCHAR", "How precise the coordinates are.", ", ".join(GEO_PRECISION),
           "rooftop: source coordinates of an exact address; postal: source coordinates of an approximate "
           "address, or a ZIP centroid; none: no usable coordinates", ("latitude", "approximate"), derived=True),
    _field("coordinates_source", "VARCHAR", "Where the coordinates came from.", ", ".join(COORDINATES_SOURCES),
           "`source`: the record's own; `postal`: the US ZIP code's centroid (derived, never published as the "
           "meeting's point in Meeting Guide JSON); `none`", ("latitude", "longitude", "postal_code"),
           derived=True),
    _field("conference_url", "VARCHAR", "Online meeting URL (http/https only, known provider hosts).", "",
           "whitespace removed; other schemes and hosts outside `transforms/data/conference_providers.csv` are "
           "dropped (the meeting is kept)", ("conference_url",)),
    _field("conference_url_notes", "VARCHAR", "About the URL: meeting id, passcode (spec "
           "`conference_url_notes`).", "", _TEXT + " except the meeting's own dial-in", ("conference_url_notes",)),
    _field("conference_provider", "VARCHAR", "Provider detected from the URL host.", "zoom, google_meet, …",
           "`transforms/data/conference_providers.csv`", ("conference_url",), derived=True),
    _field("conference_id", "VARCHAR", "Provider meeting id parsed from the URL.", "",
           "Zoom: the digits after /j/; Google Meet: abc-defg-hij; Teams: the meetup-join thread id; others: the "
           "room or invite name", ("conference_url",), derived=True),
    _field("conference_phone", "VARCHAR", "Dial-in number in E.164, then any post-dial part (\",,123#\").", "",
           "numbers phonenumbers cannot validate (for the record's country) are dropped", ("conference_phone",)),
    _field("conference_phone_notes", "VARCHAR", "About the dial-in: access code, instructions (spec "
           "`conference_phone_notes`).", "", _TEXT + " except the meeting's own dial-in",
           ("conference_phone_notes",)),
    _field("open_closed", "VARCHAR", "Open to anyone or closed to members; closed wins.", ", ".join(OPEN_CLOSED),
           "type crosswalk", ("types",), derived=True),
    _field("types", "VARCHAR[]", "Canonical attribute codes (audience, format, features), sorted.", "",
           "type crosswalk (vocabulary below)", ("types",), derived=True),
    _field("source_types", "VARCHAR[]", "Type codes exactly as the source gave them.", "",
           "as given (BMLT: format world ids, else the server's key strings)", ("types",)),
    _field("unknown_types", "VARCHAR[]", "Source codes the crosswalk does not know (kept, counted).", "",
           "counted per source and fetch in `core.unknown_types`", ("types",), derived=True),
    _field("languages", "VARCHAR[]", "ISO 639-1 language codes.", "en, es, de, …",
           "type crosswalk (Meeting Guide language codes, BMLT language keys) plus any language list the record "
           "has (BMLT `lang_enum`)", ("languages",), evidence=("types",)),
    _field("accessibility", "VARCHAR[]", "Accessibility attributes.", "", "type crosswalk", ("types",),
           derived=True),
    _field("notes", "VARCHAR", "Meeting notes, with line breaks.", "", _TEXT, ("notes",)),
    _field("location_notes", "VARCHAR", "Notes about the location, with line breaks.", "",
           f"{_TEXT}; floor, room and entrance details split off the street come first",
           ("location_notes",), evidence=("address", "formatted_address")),
    _field("source_url", "VARCHAR", "Where a person can check the listing (http/https).", "",
           "kept when it is an http(s) URL", ("source_url",)),
    _field("entity", "VARCHAR", "The service entity responsible for the listing (intergroup, area, BMLT "
           "service body).", "", "plain text", ("entity",)),
    _field("entity_url", "VARCHAR", "The entity's website (http/https).", "", "kept when it is an http(s) URL",
           ("entity_url",)),
    _field("entity_email", "VARCHAR", "The entity's public e-mail address (an official contact: published).",
           "", "kept when it is one e-mail address", ("entity_email",)),
    _field("entity_phone", "VARCHAR", "The entity's public phone number (an official contact: published).", "",
           "plain text", ("entity_phone",)),
    _field("entity_location", "VARCHAR", "The area the entity serves, in words.", "", "plain text",
           ("entity_location",)),
    _field("feedback_url", "VARCHAR", "Where to send corrections about the listing.", "",
           "kept when it is an http(s) or mailto: URL", ("feedback_url",)),
    _field("source_updated_at", "TIMESTAMP", "The source's own last-updated stamp (UTC), when parseable.", "",
           "\"YYYY-MM-DD HH:MM:SS\" (also \"2020-04-0416:50:58\" and \"8/29/2021\" from spreadsheets)",
           ("source_updated_at",)),
    _field("record_hash", "VARCHAR", "Hash of the published fields; changes when the meeting changes.", "",
           "md5 over every field above except source_id, source_key and fetch_id", derived=True),
)  # fmt: skip

FIELD_NAMES = tuple(f.name for f in CANONICAL_FIELDS)
