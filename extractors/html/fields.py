"""What each HTML family reads from its pages, for the fidelity contract (``docs/data-dictionary.md``).

A page has no field names, so each family's "fields" are the labels, columns and elements it reads
(the family module's docstring shows where they are on the page). A test parses every family's saved page
and checks that the record fields filled are exactly the ones declared here, so this list cannot drift from
the parsers.
"""

from __future__ import annotations

from extractors.records import SourceField

_F = SourceField

FIELDS: dict[str, tuple[SourceField, ...]] = {
    "nyintergroup_legacy": (
        _F("h4 (venue)", "venue_name"),
        _F('first b: "GROUP - Meeting name"', "name", "the part after the dash; the group before it"),
        _F("first b: group part", "group_name"),
        _F("address lines", "address", 'the street line; "(Between …)" cross streets stay in notes of the line'),
        _F("address lines: borough", "city", "the borough page's city"),
        _F('address lines: "NY 10007"', "region_code"),
        _F("address lines: ZIP", "postal_code"),
        _F("div.detailsBox", "notes"),
        _F('"Mondays From"', "weekday", "one record per day-slot"),
        _F('"From 7:00 AM"', "start_time"),
        _F('"to 8:00 AM"', "end_time"),
        _F('"Meeting Type", "Special Interest", wheelchair image', "types", "spelled-out type names"),
        _F("location notes line", "location_notes"),
        _F("Get Directions meetingid", "source_key", "with the day and time"),
        _F("page URL", "source_url"),
    ),
    "tsml_legacy": (
        _F("td.name a", "name"),
        _F("td.name a href", "source_key", "the meeting page's slug; the page URL is `source_url`"),
        _F("td.name a href (page)", "source_url"),
        _F("td.time[data-sort] day", "weekday", "plugin day 0 = Sunday"),
        _F("td.time[data-sort] time", "start_time"),
        _F("td.location", "venue_name"),
        _F("td.address", "address"),
        _F("td.region", "city", "the part before a comma"),
        _F("td.types", "types", "spelled-out type names"),
    ),
    "intergroup_custom": (
        _F("h4.meeting (weekday)", "weekday"),
        _F("h6.meeting (group link)", "name", "also the group"),
        _F("h6.meeting group", "group_name"),
        _F("h6.meeting a href", "source_url"),
        _F("ID:", "source_key"),
        _F("Time and duration: time", "start_time"),
        _F('Time and duration: "60 Minutes"', "duration"),
        _F("Meeting location: venue lines", "venue_name"),
        _F("Meeting location: map link", "address"),
        _F('Meeting location: "City, ST ZIP"', "city"),
        _F("Meeting location: state", "region_code"),
        _F("Meeting location: ZIP", "postal_code"),
        _F("Directions:", "location_notes"),
        _F("Frequency:", "notes", '"Only held on the 1 st Saturday of the month" (read into `frequency`)'),
        _F("Notes:", "notes"),
        _F("Attendance:, Format:, Ages:, Gender:, Services:", "types", "spelled-out type names"),
        _F("Phone:", None, "a group contact, often a member's: not read"),
        _F("Missing In Action:", None, "the directory's note that the group has not confirmed: not read yet"),
        _F("Upcoming Speakers:", None, "speakers' first names and dates: not published"),
    ),
    "intergroup_table": (
        _F("heading weekday", "weekday"),
        _F('heading "Last updated …"', "source_updated_at"),
        _F("time", "start_time"),
        _F("name", "name"),
        _F("address", "formatted_address", "one cell: venue, street, city, ZIP as typed"),
        _F("O/C, notedisp", "types", "O/C and lower-case feature codes"),
        _F("weekday, divisions, time, name, address", "source_key", "a hash (the site has no ids)"),
        _F("page URL", "source_url"),
        _F("divisions", None, "the intergroup's division: not read yet (it would be `district`)"),
    ),
    "finder": (
        _F("h1.meeting-detail__title", "name"),
        _F("detail page URL", "source_key", "with the weekday"),
        _F("detail page URL (page)", "source_url"),
        _F("add-to-calendar span.recurring BYDAY", "weekday", "one record per day; the rule must be weekly"),
        _F("add-to-calendar span.start", "start_time"),
        _F("add-to-calendar span.end", "end_time"),
        _F("add-to-calendar span.timezone", "timezone"),
        _F(".badge--format", "attendance_hint", '"In person", "Online", "Hybrid"'),
        _F(".meeting-detail__venue", "venue_name"),
        _F("address .street", "address"),
        _F("address .locality", "city"),
        _F("address .region", "region_code"),
        _F("address .postal-code", "postal_code"),
        _F("a.meeting-detail__join", "conference_url"),
        _F(".meeting-detail__about", "notes"),
    ),
}
"""Family (``kind: html:<family>``) → what it reads."""

RECIPE = (
    _F("fields.<record field>", "<record field>", "any record field the registry's recipe names, by selector"),
    _F("fields.key", "source_key", "else a hash of `key_fields`"),
    _F("fields.weekday", "weekday", "written as `day_format` says"),
)
"""The recipe family reads whatever record fields its registry entry maps (``README.md``, recipe section)."""
