"""The quality suites, declared once: which rows each layer must satisfy, and how bad a failure is.

A ``Check`` is one Great Expectations expectation with a stable name (``ops.dq_results.expectation`` and the
quarantine reason ``dq:<name>``), a severity and a sentence for the person reading the failure:

- **critical**: in staging the record is quarantined; in core and release the release is blocked.
- **warning**: the data is published and the release is flagged.

A ``Suite`` is the checks one frame (a GX dataframe asset) must pass. ``warehouse.quality.gate`` pulls each
frame from DuckDB and runs it through a GX checkpoint; nothing here re-implements a check in SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import great_expectations.expectations as gxe

from foundation.model import (
    ATTENDANCE,
    COORDINATES_SOURCES,
    END_TIME_SOURCES,
    FELLOWSHIPS,
    FREQUENCIES,
    GEO_PRECISION,
    OPEN_CLOSED,
    TIMEZONE_SOURCES,
    WEEKDAYS,
    iana_zones,
)
from foundation.settings import Settings

Severity = Literal["critical", "warning"]

TIME_PATTERN = (
    r"(?i)^\s*(?:noon|midday|midnight|mid-night|midnite|\d{4}"
    r"|\d{1,2}(?:[:.h]\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*[ap]?\.?\s*(?:m\.?)?)\s*$"
)
"""Every clock time ``foundation.timeparse.parse_time`` reads matches (a test holds it to that); the parser
still has the last word in normalization, so this only needs to be a superset."""
HTTP_URL = r"(?i)^https?://"
PUBLISHED_TEXT = (
    "name",
    "group_name",
    "group_notes",
    "venue_name",
    "address_line",
    "unparsed_address",
    "city",
    "notes",
    "location_notes",
    "conference_url_notes",
    "conference_phone_notes",
)
"""Published free-text fields; the release holds each to the contact rule (``transforms.privacy.redact_contacts``)."""
ROW_DROP_CRITICAL = Settings.max_release_drop
"""A release with more than this share fewer meetings than the previous one is blocked (the default of
``CLEARINGHOUSE_MAX_RELEASE_DROP``; the publish stage passes the configured share)."""
ROW_CHANGE_WARNING = 0.10
"""A release whose meeting count moves more than this share either way is flagged."""


@dataclass(frozen=True)
class Check:
    name: str
    severity: Severity
    expectation: type[gxe.Expectation]
    kwargs: Mapping[str, Any]
    why: str
    """What is expected, for a person (quarantine ``detail``, Data Docs notes)."""
    shows: str | None = None
    """Column whose value a quarantine row shows (default: the checked column)."""
    keep_first: bool = False
    """A uniqueness check: the first copy stays, only later copies are quarantined."""

    @property
    def quarantine_reason(self) -> str:
        """The reason a staging record failing this check is quarantined with (``core.quarantine.reason``)."""
        return f"dq:{self.name}"

    @property
    def column(self) -> str | None:
        """The field the check is about (``core.quarantine.field``)."""
        kw = self.kwargs
        return kw.get("column") or kw.get("column_A") or (kw.get("column_list") or [None])[-1]

    def build(self) -> gxe.Expectation:
        """A fresh GX expectation (an instance belongs to one suite of one context)."""
        return self.expectation(**self.kwargs, severity=self.severity, meta={"check": self.name}, notes=self.why)


@dataclass(frozen=True)
class Suite:
    layer: Literal["staging", "core", "release"]
    asset: str
    """The frame validated; also the GX asset, suite, validation definition and checkpoint name."""
    index: tuple[str, ...]
    """Columns that identify a row in results (GX ``unexpected_index_column_names``)."""
    checks: tuple[Check, ...]
    parameters: tuple[str, ...] = field(default=())
    """Suite parameters (``$PARAMETER``) each run must supply."""


def _check(name: str, severity: Severity, expectation: type[gxe.Expectation], why: str, **kwargs: Any) -> Check:
    return Check(name, severity, expectation, kwargs, why)


STAGING = Suite(
    "staging",
    "staging.source_records",
    index=("source_id", "fetch_id", "record_index", "source_key"),
    checks=(
        Check(
            "source_key_unique_within_fetch", "critical", gxe.ExpectCompoundColumnsToBeUnique,
            {"column_list": ["fetch_id", "source_key"]},
            "each record needs its own key (slug or id) within one fetch; the first copy is kept",
            keep_first=True,
        ),
        _check("name_present", "critical", gxe.ExpectColumnValuesToNotBeNull, "a meeting needs a name",
               column="name"),
        Check("weekday_present", "critical", gxe.ExpectColumnValuesToNotBeNull, {"column": "weekday"},
              "expected a weekday (Monday–Sunday); the source gave none or one that is not a day",
              shows="weekday_raw"),
        Check("weekday_in_range", "critical", gxe.ExpectColumnValuesToBeBetween,
              {"column": "weekday", "min_value": 1, "max_value": 7},
              "expected an ISO weekday, 1 = Monday … 7 = Sunday", shows="weekday_raw"),
        _check("start_time_present", "critical", gxe.ExpectColumnValuesToNotBeNull,
               "expected a start time; the source gave none", column="start_time"),
        _check("start_time_parseable", "critical", gxe.ExpectColumnValuesToMatchRegex,
               "expected a clock time such as 18:30, 6:30 PM, 7:00a, noon or 18:30:00",
               column="start_time", regex=TIME_PATTERN),
        _check("latitude_in_range", "warning", gxe.ExpectColumnValuesToBeBetween,
               "latitude must be within −90…90; normalization drops it and locates the meeting by address",
               column="latitude", min_value=-90, max_value=90),
        _check("longitude_in_range", "warning", gxe.ExpectColumnValuesToBeBetween,
               "longitude must be within −180…180; normalization drops it and locates the meeting by address",
               column="longitude", min_value=-180, max_value=180),
        _check("conference_url_http", "warning", gxe.ExpectColumnValuesToMatchRegex,
               "conference links must be http(s); other schemes are dropped", column="conference_url",
               regex=HTTP_URL),
        _check("source_url_http", "warning", gxe.ExpectColumnValuesToMatchRegex,
               "source links must be http(s); other schemes are dropped", column="source_url", regex=HTTP_URL),
    ),
)  # fmt: skip

CORE_VERSIONS = Suite(
    "core",
    "core.meeting_versions",
    index=("source_id", "source_key"),
    checks=(
        _check("fellowship_known", "critical", gxe.ExpectColumnValuesToBeInSet, "a canonical fellowship code",
               column="fellowship", value_set=list(FELLOWSHIPS)),
        _check("weekday_valid", "critical", gxe.ExpectColumnValuesToBeInSet, "ISO weekday 1 = Monday … 7 = Sunday",
               column="weekday", value_set=list(WEEKDAYS)),
        _check("start_time_present", "critical", gxe.ExpectColumnValuesToNotBeNull, "every meeting has a start time",
               column="start_time"),
        _check("attendance_valid", "critical", gxe.ExpectColumnValuesToBeInSet, "one of the attendance modes",
               column="attendance", value_set=list(ATTENDANCE)),
        _check("timezone_iana", "critical", gxe.ExpectColumnValuesToBeInSet, "an IANA time zone name",
               column="timezone", value_set=sorted(iana_zones())),
        _check("geo_precision_valid", "warning", gxe.ExpectColumnValuesToBeInSet, "rooftop, postal or none",
               column="geo_precision", value_set=list(GEO_PRECISION)),
        _check("timezone_source_valid", "warning", gxe.ExpectColumnValuesToBeInSet,
               "where the time zone came from", column="timezone_source", value_set=list(TIMEZONE_SOURCES)),
        _check("open_closed_valid", "warning", gxe.ExpectColumnValuesToBeInSet, "open or closed",
               column="open_closed", value_set=list(OPEN_CLOSED)),
        _check("end_time_source_valid", "warning", gxe.ExpectColumnValuesToBeInSet,
               "where the end time came from: source, duration or none", column="end_time_source",
               value_set=list(END_TIME_SOURCES)),
        _check("end_time_only_when_given", "critical", gxe.ExpectColumnValuesToBeInSet,
               "an end time only when the source gave one or a duration (nothing invented)",
               column="has_end_time", value_set=[False], row_condition='end_time_source == "none"',
               condition_parser="pandas"),
        _check("coordinates_source_valid", "warning", gxe.ExpectColumnValuesToBeInSet,
               "where the coordinates came from: source, postal or none", column="coordinates_source",
               value_set=list(COORDINATES_SOURCES)),
        _check("frequency_valid", "warning", gxe.ExpectColumnValuesToBeInSet, "weekly or monthly",
               column="frequency", value_set=list(FREQUENCIES)),
        _check("online_has_access", "warning", gxe.ExpectColumnValuesToBeInSet,
               "an online or hybrid meeting needs a conference URL or a dial-in number",
               column="has_online_access", value_set=[True],
               row_condition='attendance in ["online", "hybrid"]', condition_parser="pandas"),
        _check("in_person_has_location", "warning", gxe.ExpectColumnValuesToBeInSet,
               "an in-person or hybrid meeting needs an address or coordinates",
               column="has_location", value_set=[True],
               row_condition='attendance in ["in_person", "hybrid"]', condition_parser="pandas"),
        _check("end_matches_duration", "warning", gxe.ExpectColumnPairValuesToBeEqual,
               "end − start (plus 24 h when the meeting crosses midnight) equals duration_min",
               column_A="end_minus_start_min", column_B="duration_min", ignore_row_if="either_value_is_missing"),
    ),
)  # fmt: skip

CORE_MEETINGS = Suite(
    "core",
    "core.meetings",
    index=("meeting_id",),
    checks=(
        _check("meeting_id_unique", "critical", gxe.ExpectColumnValuesToBeUnique, "one row per meeting id",
               column="meeting_id"),
    ),
)  # fmt: skip

CORE_LINKS = Suite(
    "core",
    "core.meeting_links",
    index=("source_id", "source_key", "meeting_id"),
    checks=(
        _check("link_points_at_meeting", "critical", gxe.ExpectColumnValuesToNotBeNull,
               "every link of the latest resolution points at a meeting in core.meetings",
               column="linked_meeting_id"),
    ),
)  # fmt: skip

RELEASE_MEETINGS = Suite(
    "release",
    "release.meetings",
    index=("meeting_id",),
    parameters=("min_rows", "warn_min_rows", "warn_max_rows"),
    checks=(
        _check("meeting_id_unique", "critical", gxe.ExpectColumnValuesToBeUnique, "one row per meeting id",
               column="meeting_id"),
        _check("provenance_present", "critical", gxe.ExpectColumnValuesToBeBetween,
               "every meeting names at least one source record (source_id, source_key)",
               column="provenance", min_value=1),
        *(
            _check(f"no_contacts_in_{name}", "critical", gxe.ExpectColumnPairValuesToBeEqual,
                   f"{name} holds no e-mail address or phone number the privacy rule would redact "
                   "(the meeting's own dial-in number is allowed)",
                   column_A=name, column_B=f"{name}_redacted")
            for name in PUBLISHED_TEXT
        ),
        _check("row_count_within_tolerance", "critical", gxe.ExpectTableRowCountToBeBetween,
               "no more than CLEARINGHOUSE_MAX_RELEASE_DROP (default "
               f"{ROW_DROP_CRITICAL:.0%}) fewer meetings than the previous release",
               min_value={"$PARAMETER": "min_rows"}),
        _check("row_count_change_small", "warning", gxe.ExpectTableRowCountToBeBetween,
               f"meeting count within ±{ROW_CHANGE_WARNING:.0%} of the previous release",
               min_value={"$PARAMETER": "warn_min_rows"}, max_value={"$PARAMETER": "warn_max_rows"}),
    ),
)  # fmt: skip

RELEASE_REGIONS = Suite(
    "release",
    "release.regions",
    index=("region",),
    checks=(
        _check("region_not_empty", "critical", gxe.ExpectColumnValuesToBeBetween,
               "every configured region has meetings in meeting-guide/<region>.json", column="meetings",
               min_value=1),
    ),
)  # fmt: skip

SUITES: tuple[Suite, ...] = (STAGING, CORE_VERSIONS, CORE_MEETINGS, CORE_LINKS, RELEASE_MEETINGS, RELEASE_REGIONS)
