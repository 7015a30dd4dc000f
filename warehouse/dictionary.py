"""The data dictionary (``docs/data-dictionary.md``), rendered from the declarations it documents.

The fidelity contract joins what each family declares about its format (``FIELDS`` of
``extractors.meeting_guide``, ``extractors.bmlt``, ``extractors.tsml_csv``, ``extractors.html.fields``) with
the canonical fields that read each record field (``foundation.model``) and the outputs that publish each
canonical field (the tables, ``warehouse.exporters.meeting_guide.FIELDS``, ``HSDS_FIELDS`` below). The
quarantine reasons come from the three places that store them (the source's own status in
``warehouse.normalize``, the staging suite's critical checks, normalization), the survivorship rules from
``transforms.survivorship``, the attribute vocabulary from the type crosswalk's data files: the document
cannot drift from the code (a test compares the committed file with this rendering). Regenerate with
``python -m warehouse.dictionary > docs/data-dictionary.md``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from extractors import bmlt, meeting_guide, tsml_csv
from extractors.html import fields as html_fields
from extractors.records import SourceField
from foundation.model import CANONICAL_FIELDS, WEEKDAYS, CanonicalField
from transforms.crosswalk import ANY, ATTENDANCE_SIGNALS, OWN_VOCABULARY, type_rows
from transforms.normalize import QUARANTINE_REASONS
from transforms.refdata import data_rows
from transforms.survivorship import RULES
from warehouse.exporters import meeting_guide as mg_export
from warehouse.normalize import UNPUBLISHED_AT_SOURCE, UNPUBLISHED_DETAIL
from warehouse.quality.suites import STAGING

FAMILIES: dict[str, tuple[SourceField, ...]] = {
    "meeting_guide": meeting_guide.FIELDS,
    "bmlt": bmlt.FIELDS,
    "tsml_csv": tsml_csv.FIELDS,
    **{f"html:{name}": declared for name, declared in html_fields.FIELDS.items()},
    "recipe": html_fields.RECIPE,
}
"""Every source family and what it reads from its format."""
PROVENANCE = ("source_id", "source_key", "fetch_id", "record_hash")
"""Canonical fields that identify a version rather than describe the meeting (not published per meeting)."""
HSDS_FIELDS: dict[str, str] = {
    "fellowship": "organization.name",
    "name": "service.name",
    "group_name": "service.alternate_name",
    "notes": "service.description",
    "source_url": "service.url",
    "attendance": "service.status, schedule.attending_type",
    "open_closed": "service.eligibility_description, attribute.value",
    "types": "attribute.value",
    "accessibility": "attribute.value",
    "languages": "language.code",
    "venue_name": "location.name",
    "location_notes": "location.description",
    "latitude": "location.latitude",
    "longitude": "location.longitude",
    "address_line": "address.address_1",
    "city": "address.city",
    "region_code": "address.state_province",
    "postal_code": "address.postal_code",
    "country": "address.country",
    "conference_url": "location.url",
    "conference_phone": "phone.number",
    "weekday": "schedule.byday",
    "start_time": "schedule.opens_at",
    "end_time": "schedule.closes_at",
    "timezone": "schedule.timezone, attribute.value",
}
"""Canonical field → the HSDS 3 ``table.field`` it is written to (``warehouse/exporters/hsds.py``)."""


def quarantine_reasons() -> dict[str, tuple[str, str, str]]:
    """Every reason ``core.quarantine`` stores → (stage, field, what was expected), in the order they apply."""
    reasons = {UNPUBLISHED_AT_SOURCE: ("source", "source_status", UNPUBLISHED_DETAIL.format(status="<status>"))}
    for check in STAGING.checks:
        if check.severity == "critical":
            reasons[check.quarantine_reason] = ("staging check", check.column or "", check.why)
    for reason, (field, detail) in QUARANTINE_REASONS.items():
        reasons[reason] = ("normalization", field, detail)
    return reasons


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _code(names: Iterable[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def mg_keys_of(field: str) -> list[str]:
    """The Meeting Guide keys a canonical field is published in."""
    return [key for key, _, reads in mg_export.FIELDS if field in reads]


def canonical_of(record_field: str) -> tuple[list[CanonicalField], list[CanonicalField]]:
    """(The canonical fields that carry a record field's value, those it is evidence for)."""
    carried = [f for f in CANONICAL_FIELDS if record_field in f.inputs]
    evidence = [f for f in CANONICAL_FIELDS if record_field in f.evidence]
    return carried, evidence


def _outputs(field: CanonicalField) -> str:
    if field.name in ("source_id", "source_key"):
        return f"tables `sources[].{field.name}` (provenance)"
    parts = [] if field.name in PROVENANCE else [f"tables `{field.name}`"]
    if keys := mg_keys_of(field.name):
        parts.append(f"Meeting Guide {_code(keys)}")
    if hsds := HSDS_FIELDS.get(field.name):
        parts.append(f"HSDS `{hsds}`")
    return "; ".join(parts) or "—"


def _field_row(f: CanonicalField) -> list[str]:
    return [f"`{f.name}`", f.type, f.description, f.allowed, "derived" if f.derived else "source", f.filled_from,
            _outputs(f)]  # fmt: skip


def _family_rows(declared: tuple[SourceField, ...]) -> list[list[str]]:
    rows = []
    for f in declared:
        if f.record is None:
            rows.append([f"`{f.source}`", "—", "not carried", "—", "—", f.note])
            continue
        own, evidence = canonical_of(f.record)
        outputs = "; ".join(f"`{c.name}` → {_outputs(c)}" for c in own) or "—"
        rows.append([f"`{f.source}`", f"`{f.record}`", _code(c.name for c in own) or "—",
                     _code(c.name for c in evidence) or "—", outputs, f.note])  # fmt: skip
    return rows


RELEASE_COLUMNS = (
    ("meeting_id", "meetings.*, verification.parquet", "the stable meeting id (`foundation/ids.py`)"),
    ("sources", "meetings.*", "every `source_id`/`source_key` record behind the meeting"),
    ("venue_id", "meetings.*", "the stable id of its venue (shared by the meetings of one place)"),
    ("regions", "meetings.*", "the ids of the regions the meeting is in (`list_contains(regions, '<id>')`)"),
    ("region_evidence", "meetings.*", "what placed it: coordinates, postal_code, city, source_region or state"),
    ("coordinates_conflict", "meetings.*", "the source's coordinates contradicted its address (not published)"),
    ("first_seen", "meetings.*", "the first run that listed it"),
    ("updated_at", "meetings.*", "when its published fields last changed"),
    ("last_seen", "verification.parquet", "the last run a source listed it"),
    ("last_verified", "verification.parquet", "the start of the last healthy fetch that listed it"),
)
"""Columns of the release files that are not canonical fields (``warehouse.publish.PUBLISHED_COLUMNS``,
``warehouse.exporters.verification.COLUMNS``)."""


def render_data_dictionary() -> str:
    """The whole Markdown document."""
    weekdays = ", ".join(f"{n} = {day}" for n, day in WEEKDAYS.items())
    vocabulary = list(data_rows("type_vocabulary.csv"))
    used = Counter(code for row in type_rows() for code in (*row.types, *row.accessibility))
    languages = sorted({lang for row in type_rows() for lang in row.languages})
    coverage = Counter((row.scheme, row.fellowship) for row in type_rows())
    lines = [
        "# Data dictionary: the canonical meeting and the fidelity contract",
        "",
        "Generated by `python -m warehouse.dictionary` from the declarations it documents: the families'",
        "`FIELDS` (`extractors/`), `foundation/model.py`, `transforms/normalize.py`, `transforms/survivorship.py`,",
        "the exporters and the quality suites; do not edit by hand (a test compares this file with the rendering).",
        "",
        "One row of `core.meeting_versions` is one meeting on one weekday, as one source listed it in one",
        "fetch. What a source does not give is null in the canonical record and absent from the outputs; a value",
        "the pipeline derives is marked derived, and says how (`timezone_source`, `end_time_source`,",
        "`coordinates_source`, `frequency`). Source families: `meeting_guide` (Meeting Guide JSON feeds), `bmlt`",
        "(BMLT root servers), `tsml_csv` (12 Step Meeting List CSV/TSV exports), `html:<family>` (scraped",
        "pages) and `recipe` (pages described by CSS selectors in the registry).",
        "",
        "## Weekday encoding",
        "",
        f"ISO 8601: {weekdays}. Families convert at the edge: Meeting Guide and TSML `day` 0 = Sunday … "
        "6 = Saturday; BMLT `weekday_tinyint` 1 = Sunday … 7 = Saturday; CSV/HTML day names (English, "
        "Spanish, German). Times are local wall-clock times in `timezone`, never UTC.",
        "",
        "## Fields",
        "",
        *_table(
            ["field", "type", "meaning", "allowed values", "source or derived", "how it is computed", "published as"],
            [_field_row(f) for f in CANONICAL_FIELDS],
        ),
        "",
        "## Fidelity contract: every source field, per family",
        "",
        "Each family declares every field its format is known to have. A field is carried into canonical fields",
        "(normalized as the Fields table says) and published in the outputs listed; it may also be evidence for",
        "others (a ZIP code for a missing city, a city for the time zone; derived fields say how). A field that",
        "is not carried says why. Personal contacts (`contact_N_*`, a group's e-mail or phone) are never read;",
        "the service entity's official contacts (`entity_*`) are published.",
        "",
    ]
    for family, declared in FAMILIES.items():
        lines += [f"### `{family}`", ""]
        lines += _table(["source field", "record field", "carried in", "also evidence for", "published as", "note"],
                        _family_rows(declared))  # fmt: skip
        lines.append("")
    lines += [
        "## Meeting Guide JSON (`meeting-guide.json`, `meeting-guide/<region>.json`)",
        "",
        "A key appears only when its value is known. These keys are derived by the release, whatever the source",
        "gave (so the round trip compares them as documented here):",
        "",
        *_table(["key", "how"], [[f"`{k}`", how] for k, how in mg_export.DERIVED.items()]),
        "",
        "`end_time` only when the source gave it or a duration (`end_time_source`); apps apply their own default",
        "(an hour) otherwise. `updated` is the source's own stamp, left out when it gives none — never the",
        "release time. `latitude`/`longitude` only when they are the source's own (`coordinates_source`), not a",
        'ZIP centroid. `formatted_address` is "street, city, ST ZIP, country"; a place we could not parse is',
        "published as the source wrote it (`unparsed_address`), and floor or room details are in",
        "`location_notes`. Monthly meetings: the spec is for weekly meetings and has no field for it, and the",
        "apps that read it show every meeting as weekly; so a monthly meeting's `notes` begin with what people",
        'must know before they go — "Monthly: first Saturday only." ("Monthly: one Tuesday a month." when the',
        "source does not say which week). The meeting stays listed, on its weekday, where every app shows notes;",
        "`frequency` and `weeks_of_month` in the tables say it for programs.",
        "",
        "## Release columns besides the canonical fields, and `verification.parquet`",
        "",
        *_table(["column", "file", "meaning"], [[f"`{c}`", f, meaning] for c, f, meaning in RELEASE_COLUMNS]),
        "",
        "Schema 3.0 moved `last_seen` and `last_verified` out of the meeting files: they change every night for",
        "every meeting, so keeping them there made every file of every release new. Join `verification.parquet`",
        "on `meeting_id` (the release DuckDB's `meetings` view does); HSDS `assured_date` is no longer written.",
        "",
        "## Survivorship: which source a merged meeting takes each field from",
        "",
        "A meeting backed by several records takes each field group from one record: a record without a value",
        "never wins over one with a value. `priority`: the registry's `priority` decides; `recency`: the most",
        "recently updated source (when every record carries an updated stamp, else priority); `completeness`:",
        "the fullest value. Ties go to the next rule, then the lowest record. A group with `same as` takes part",
        "only from records that share those fields with the meeting's winners. `core.meeting_field_sources`",
        "records the winner of each field.",
        "",
        *_table(
            ["fields", "rule", "same as", "why"],
            [[_code(r.fields), r.rule, _code(r.same_as), r.why] for r in RULES],
        ),
        "",
        "## Text in CSV files",
        "",
        "Parquet, JSON, GeoJSON and DuckDB files hold text exactly as normalization left it. In every CSV",
        "file of a release (`meetings.csv`, per region, and the HSDS tables) a text cell that begins with",
        "`=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe (`'`), so a spreadsheet shows",
        "it as text instead of running it as a formula (the OWASP rule against CSV injection):",
        '`=HYPERLINK("http://evil.example/x","Click")` is written as `\'=HYPERLINK(...)`. Numbers stay numbers:',
        "numeric columns (`latitude`, `longitude`, `duration_min`) are never changed, and neither is a text cell",
        "that is only a signed number or code — a sign, a digit, then digits, capital letters and `,.#*` (a",
        "dial-in `+16465588656,,123#`, an HSDS week `-1FR`) — since it cannot call a function. Programs that",
        "need the exact text of every cell read `meetings.parquet` or the JSON files.",
        "",
        "## Quarantine reasons",
        "",
        "A record that cannot become a meeting goes to `core.quarantine` with the first reason that applies",
        "(in this order), the field and the offending value; per source and fetch, parsed = normalized +",
        "quarantined. `dq:` reasons are the staging suite's critical checks (`warehouse/quality/suites.py`);",
        "normalization's own reasons catch what only it can see.",
        "",
        *_table(
            ["reason", "stage", "field", "what was expected"],
            [[f"`{r}`", stage, f, d] for r, (stage, f, d) in quarantine_reasons().items()],
        ),
        "",
        "## Type crosswalk",
        "",
        "`transforms/data/type_crosswalk.csv` maps (scheme, fellowship, code) to canonical attributes.",
        "A code is looked up for the record's fellowship, then for any fellowship (`*`), then by its",
        'spelled-out name ("C = Closed Discussion meeting", "Wheelchair Access"). Closed wins over open.',
        "Codes no row knows stay in `unknown_types` and are counted per source and fetch in",
        "`core.unknown_types`. Fellowships whose feeds speak only their own codes",
        f"({', '.join(sorted(OWN_VOCABULARY))}: Recovery Dharma, Refuge Recovery) take from the `*` rows only",
        "languages and attendance signals: another fellowship's meaning is never borrowed, and a code",
        "whose meaning public material does not document (Recovery Dharma's `BB`, `FDIS`, `FBS`, `FSPK`,",
        "`ILGB`) stays unknown and counted.",
        "",
        *_table(
            ["scheme", "fellowship", "rows"],
            [[scheme, fellowship, str(n)] for (scheme, fellowship), n in sorted(coverage.items())],
        ),
        "",
        "### Vocabulary of `types` and `accessibility`",
        "",
        *_table(
            ["code", "group", "meaning", "crosswalk rows"],
            [[f"`{v['code']}`", v["group"], v["meaning"], str(used[v["code"]])] for v in vocabulary],
        ),
        "",
        f"`open_closed`: open, closed. `languages` (ISO 639-1) the crosswalk yields: {', '.join(languages)}.",
        "",
        "### Attendance signals",
        "",
        f"Codes that say something about attendance ({', '.join(ATTENDANCE_SIGNALS)}) feed the",
        "`attendance` rules above instead of `types`: BMLT VM/WEB online, HY/HYBR hybrid, Meeting Guide ONL",
        f"online access, TC location temporarily closed. Fellowship `{ANY}` rows apply to every fellowship.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_data_dictionary(), end="")
