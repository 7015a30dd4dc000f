"""The canonical meeting, declared once.

``CANONICAL_FIELDS`` is the data dictionary (rendered to ``docs/data-dictionary.md`` by
``python -m transforms.dictionary``), the column list of ``core.meeting_versions`` (a test checks the
migration against it) and the column order of published files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

WEEKDAYS = {1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday", 6: "Saturday", 7: "Sunday"}
ATTENDANCE = ("in_person", "online", "hybrid", "inactive")
GEO_PRECISION = ("rooftop", "postal", "none")
TIMEZONE_SOURCES = ("source", "coordinates", "postal", "registry")
OPEN_CLOSED = ("open", "closed")


@cache
def iana_zones() -> frozenset[str]:
    """The IANA time zone names, read once: ``available_timezones()`` walks the zoneinfo tree (4 ms a call),
    and a national registry validates thousands of sources."""
    return frozenset(available_timezones())


FELLOWSHIPS = (
    "AA", "NA", "AL-ANON", "ALATEEN", "CA", "CMA", "OA", "GA", "CODA", "SAA", "SLAA", "SA", "SCA", "MA",
    "HA", "ACA", "EA", "DA", "DRA", "FA", "SMART", "LIFERING", "WFS", "RD", "RR", "CR", "DBSA", "NAMI",
    "NAR-ANON", "GAM-ANON", "COSA", "S-ANON", "CLA", "UA", "OTHER",
)  # fmt: skip


@dataclass(frozen=True)
class CanonicalField:
    name: str
    type: str
    """DuckDB type."""
    description: str
    allowed: str = ""
    filled_from: str = ""
    """How each source family fills it (meeting_guide / bmlt / tsml_csv / html)."""


CANONICAL_FIELDS: tuple[CanonicalField, ...] = (
    CanonicalField("source_id", "VARCHAR", "Registry id of the source (stable forever).", "", "registry"),
    CanonicalField(
        "source_key", "VARCHAR", "The source's own id of the record, per weekday.", "",
        "meeting_guide: `slug` (+`-<day>` when `day` is a list); bmlt: `id_bigint`; tsml_csv: `slug` "
        "or a hash of name/day/time/address; html: detail URL or a hash of stable fields",
    ),
    CanonicalField("fetch_id", "VARCHAR", "The fetch whose snapshot this version was parsed from."),
    CanonicalField(
        "fellowship", "VARCHAR", "Canonical fellowship code.", ", ".join(FELLOWSHIPS),
        "the record's own `fellowship` (multi-fellowship feeds) through "
        "`transforms/data/fellowship_aliases.csv` "
        "(\"Al-Anon\" → AL-ANON; a name the table does not know → OTHER), else the registry's `fellowship`",
    ),
    CanonicalField(
        "name", "VARCHAR", "Meeting name, plain text, personal e-mails/phones redacted.", "",
        "meeting_guide and tsml_csv `name`; bmlt `meeting_name`; html: the listing's title. "
        "Blank or a NULL literal → quarantine `no_name`",
    ),
    CanonicalField(
        "group_name", "VARCHAR", "Group that holds the meeting, when given; plain text, redacted.", "",
        "meeting_guide and tsml_csv `group`; bmlt: none",
    ),
    CanonicalField(
        "weekday", "TINYINT", "Day of the week, ISO 8601: 1 = Monday … 7 = Sunday.", "1–7",
        "meeting_guide `day` (0 = Sunday), bmlt `weekday_tinyint` (1 = Sunday) and tsml_csv day names "
        "converted at the edge; a listing on several days is one record per day. None → quarantine "
        "`no_weekday`",
    ),
    CanonicalField(
        "start_time", "TIME", "Local start time (wall clock in `timezone`).", "00:00–23:59",
        "meeting_guide and tsml_csv `time` (\"18:30\", \"6:30 PM\", \"7:00a\", \"noon\", \"12:00 AM\"); bmlt "
        "`start_time` (\"HH:MM:SS\"). Missing → quarantine `no_time`, unreadable → `bad_time`",
    ),
    CanonicalField(
        "end_time", "TIME", "Local end time; before `start_time` means the meeting crosses midnight.", "",
        "meeting_guide and tsml_csv `end_time`; else `start_time` + `duration_min`",
    ),
    CanonicalField(
        "duration_min", "SMALLINT", "Length in minutes.", "1–1440",
        "end − start (modulo 24 h); bmlt `duration_time` (\"01:30:00\"); a duration in minutes; "
        "60 when neither is given",
    ),
    CanonicalField(
        "timezone", "VARCHAR", "IANA time zone. Weekly meetings are never stored in UTC.", "IANA names",
        "the record's zone (meeting_guide `timezone`, bmlt `time_zone`) when it is an IANA name; else the "
        "zone "
        "containing the coordinates (timezonefinder); else the US ZIP code's; else the registry's "
        "`timezone`. "
        "None of them → quarantine `no_timezone`",
    ),
    CanonicalField(
        "timezone_source", "VARCHAR", "Where the time zone came from.", ", ".join(TIMEZONE_SOURCES),
        "`source` (record), `coordinates`, `postal` (ZIP), `registry`",
    ),
    CanonicalField(
        "attendance", "VARCHAR", "How people attend.", ", ".join(ATTENDANCE),
        "the source's own attendance (meeting_guide `attendance_option`, bmlt `venue_type` 1/2/3) when "
        "given; "
        "else bmlt HY/HYBR → hybrid, VM/WEB → online; else as the 12 Step Meeting List derives it: TC + "
        "online "
        "access → online, TC alone → inactive, online access (a conference URL on a known host, a dial-in or "
        "ONL) with an exact address → hybrid, with an approximate one → online, no online access: exact "
        "address → in_person, approximate → inactive. Exact = `approximate` is no, or (not given) a street "
        "line",
    ),
    CanonicalField(
        "venue_name", "VARCHAR", "Name of the place (church, hall, club).", "",
        "meeting_guide and tsml_csv `location`; bmlt `location_text`; else a place name in front of the "
        "street (\"Fifth Av Presbyterian Church, 7 West 55th Street\", usaddress)",
    ),
    CanonicalField(
        "address_line", "VARCHAR", "Street address; US: USPS suffixes and directionals (\"7 W 55th St\").",
        "",
        "meeting_guide `address` or the street part of `formatted_address`; bmlt `location_street`; tsml_csv "
        "`address` (a whole \"street, city, ST ZIP, country\" line is split); units after a comma are kept",
    ),
    CanonicalField(
        "city", "VARCHAR", "City or municipality.", "",
        "`city`, bmlt `location_municipality` (else `location_city_subsection`), or from "
        "`formatted_address`; "
        "the US ZIP code's city when missing",
    ),
    CanonicalField(
        "region_code", "VARCHAR", "State or province; US and Canada as two-letter codes.", "",
        "`state`, bmlt `location_province`, or from `formatted_address` (\"New York\" → NY); the US ZIP "
        "code's "
        "state when missing",
    ),
    CanonicalField(
        "postal_code", "VARCHAR", "Postal code; US ZIP as five digits, zero-padded.", "",
        "`postal_code`, bmlt `location_postal_code_1`, or from `formatted_address`; numeric codes that lost "
        "leading zeros in a spreadsheet (\"2138\", \"2138.0\") are padded (US, DE, FR, ES, IT, MX)",
    ),
    CanonicalField("postal_code_ext", "VARCHAR", "ZIP+4 extension, when given.", "4 digits", "ZIP+4 suffix"),
    CanonicalField(
        "country", "VARCHAR", "ISO 3166-1 alpha-2 country code.", "US, CA, DE, …",
        "`country`, bmlt `location_nation` or the last part of `formatted_address` (\"USA\", \"U.S.A\", "
        "\"United States\", \"Deutschland\" …); blank or unknown → the registry's `country`",
    ),
    CanonicalField(
        "latitude", "DOUBLE", "WGS 84 latitude; invalid coordinates are dropped, not guessed.", "−90–90",
        "source `latitude`/`longitude` when valid: numeric, in range, not (0, 0), on land and in a time zone "
        "of the record's country (swapped pairs and placeholders abroad fail this); else the US ZIP centroid",
    ),
    CanonicalField("longitude", "DOUBLE", "WGS 84 longitude.", "−180–180", "as `latitude`"),
    CanonicalField(
        "geo_precision", "VARCHAR", "How precise the coordinates are.", ", ".join(GEO_PRECISION),
        "rooftop: source coordinates of an exact address; postal: source coordinates of an approximate "
        "address, or a ZIP centroid; none: no usable coordinates",
    ),
    CanonicalField(
        "conference_url", "VARCHAR", "Online meeting URL (http/https only, known provider hosts).", "",
        "meeting_guide and tsml_csv `conference_url`; bmlt `virtual_meeting_link`; other schemes and hosts "
        "outside `transforms/data/conference_providers.csv` are dropped (the meeting is kept)",
    ),
    CanonicalField(
        "conference_provider", "VARCHAR", "Provider detected from the URL host.", "zoom, google_meet, …",
        "`transforms/data/conference_providers.csv`",
    ),
    CanonicalField(
        "conference_id", "VARCHAR", "Provider meeting id parsed from the URL.", "",
        "Zoom: the digits after /j/; Google Meet: abc-defg-hij; Teams: the meetup-join thread id; others: "
        "the room or invite name",
    ),
    CanonicalField(
        "conference_phone", "VARCHAR", "Dial-in number in E.164, then any post-dial part (\",,123#\").",
        "", "meeting_guide and tsml_csv `conference_phone`; bmlt `phone_meeting_number`; numbers "
        "phonenumbers cannot validate (for the record's country) are dropped",
    ),
    CanonicalField(
        "open_closed", "VARCHAR", "Open to anyone or closed to members; closed wins.", ", ".join(OPEN_CLOSED),
        "type crosswalk",
    ),
    CanonicalField(
        "types", "VARCHAR[]", "Canonical attribute codes (audience, format, features), sorted.", "",
        "type crosswalk (vocabulary below)",
    ),
    CanonicalField(
        "source_types", "VARCHAR[]", "Type codes exactly as the source gave them.", "",
        "meeting_guide `types`; bmlt format world ids (else the server's key string); tsml_csv `types`",
    ),
    CanonicalField(
        "unknown_types", "VARCHAR[]", "Source codes the crosswalk does not know (kept, counted).", "",
        "counted per source and fetch in `core.unknown_types`",
    ),
    CanonicalField(
        "languages", "VARCHAR[]", "ISO 639-1 language codes.", "en, es, de, …",
        "type crosswalk (Meeting Guide language codes, bmlt language keys) plus bmlt `lang_enum` and any "
        "language list the record has",
    ),
    CanonicalField("accessibility", "VARCHAR[]", "Accessibility attributes.", "", "type crosswalk"),
    CanonicalField(
        "notes", "VARCHAR", "Meeting notes, plain text with line breaks, personal e-mails/phones redacted.",
        "",
        "meeting_guide and tsml_csv `notes`; bmlt `comments`",
    ),
    CanonicalField(
        "location_notes", "VARCHAR", "Notes about the location, plain text with line breaks, redacted.", "",
        "meeting_guide and tsml_csv `location_notes`; bmlt `location_info`",
    ),
    CanonicalField(
        "source_url", "VARCHAR", "Where a person can check the listing (http/https).", "",
        "meeting_guide `url`; tsml_csv `url` or `website`",
    ),
    CanonicalField(
        "source_updated_at", "TIMESTAMP", "The source's own last-updated stamp, when parseable.", "",
        "meeting_guide and tsml_csv `updated` (\"YYYY-MM-DD HH:MM:SS\" UTC; also \"2020-04-0416:50:58\" and "
        "\"8/29/2021\" from spreadsheets)",
    ),
    CanonicalField(
        "record_hash", "VARCHAR", "Hash of the published fields; changes when the meeting changes.", "",
        "md5 over every field above except source_id, source_key and fetch_id",
    ),
)  # fmt: skip

FIELD_NAMES = tuple(f.name for f in CANONICAL_FIELDS)
