"""The data dictionary is the rendering of the declarations, and the declarations hold for the real data.

The fidelity contract is only worth something if a family cannot read (or meet) a field nobody decided
about: every field of every real fixture must be declared, every declared record field must be what the
parser fills, and every quarantine reason a store holds must be documented.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import fields
from pathlib import Path

import duckdb
import pytest

from extractors import bmlt, meeting_guide, tsml_csv
from extractors.html.fields import FIELDS as HTML_FIELDS
from extractors.records import RECORD_FIELDS, SourceRecord
from foundation.model import CANONICAL_FIELDS, FIELD_NAMES
from tests.conftest import REPO, SNAPSHOTS
from tests.extractors.html.pages import snapshot
from tests.extractors.html.test_contracts import CASES
from tests.transforms.realdata import FIXTURES
from warehouse.dictionary import FAMILIES, HSDS_FIELDS, quarantine_reasons, render_data_dictionary
from warehouse.exporters import meeting_guide as mg_export

DOC = REPO / "docs" / "data-dictionary.md"
SHARED_FEEDS = sorted((SNAPSHOTS / "mg").glob("*.json"))
BMLT_RESULTS = [SNAPSHOTS / "gny-na" / "GetSearchResults.json", FIXTURES / "bmlt" / "berlin" / "GetSearchResults.json"]
TSML_FILES = sorted((FIXTURES / "tsml_csv").glob("*.[ct]sv"))


def test_committed_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render_data_dictionary(), (
        "docs/data-dictionary.md is stale: run `python -m warehouse.dictionary > docs/data-dictionary.md`"
    )


def test_doc_covers_every_field_family_and_the_weekday_encoding() -> None:
    text = render_data_dictionary()
    assert all(f"| `{name}` |" in text for name in FIELD_NAMES)
    assert all(f"### `{family}`" in text for family in FAMILIES)
    assert "1 = Monday" in text and "7 = Sunday" in text
    assert "| `alateen` | audience |" in text


def _declared(declared) -> set[str]:
    return {f.source for f in declared}


@pytest.mark.parametrize("path", SHARED_FEEDS, ids=lambda p: p.stem)
def test_every_field_of_the_real_meeting_guide_feeds_is_declared(path: Path) -> None:
    keys = {key for item in json.loads(path.read_bytes()) for key in item}
    assert keys - _declared(meeting_guide.FIELDS) == set()


@pytest.mark.parametrize("path", BMLT_RESULTS, ids=lambda p: p.parent.name)
def test_every_field_of_the_real_bmlt_results_is_declared(path: Path) -> None:
    keys = {key for item in json.loads(path.read_bytes()) for key in item}
    assert keys - _declared(bmlt.FIELDS) == set()


@pytest.mark.parametrize("path", TSML_FILES, ids=lambda p: p.name)
def test_every_column_of_the_real_tsml_exports_is_declared(path: Path) -> None:
    text, _ = tsml_csv.decode(path.read_bytes())
    first = text.replace("\r\n", "\n").replace("\r", "\n").split("\n", 1)[0]
    header = next(csv.reader(io.StringIO(first), delimiter="\t" if "\t" in first else ","))
    assert {tsml_csv._slug(h) for h in header} - _declared(tsml_csv.FIELDS) == set()


def test_declarations_name_record_fields() -> None:
    for family, declared in FAMILIES.items():
        if family == "recipe":
            continue
        assert {f.record for f in declared if f.record} <= set(RECORD_FIELDS), family
        sources = [f.source for f in declared]
        assert len(sources) == len(set(sources)), f"{family}: a field declared twice"


def test_meeting_guide_direct_fields_reach_the_record() -> None:
    """Each field the family copies as is lands in its declared record field (a value no other field has)."""
    direct = [f for f in meeting_guide.FIELDS if f.direct and f.record]
    item = {"name": "x", "slug": "s", "day": 1, "time": "19:00"} | {f.source: f"v-{f.source}" for f in direct}
    parsed = meeting_guide.parse(snapshot({"meetings": ("https://example.org/f.json", json.dumps([item]).encode())}))
    [record] = parsed
    assert {f.record: getattr(record, f.record) for f in direct} == {f.record: f"v-{f.source}" for f in direct}


@pytest.mark.parametrize("case", [c for c in CASES if c in HTML_FIELDS or c == "finder-listing"])
def test_html_families_fill_exactly_the_declared_record_fields(case: str) -> None:
    family = "finder" if case.startswith("finder") else case
    spec = CASES[case]
    records = spec.module.parse(snapshot(spec.parts(), "x", **spec.options()))
    filled = {f.name for r in records for f in fields(SourceRecord)
              if f.name not in ("raw", "weekday_raw") and getattr(r, f.name) not in (None, [], "")}  # fmt: skip
    assert filled == {f.record for f in HTML_FIELDS[family] if f.record}


def test_canonical_fields_read_record_fields_and_outputs_read_canonical_fields() -> None:
    for field in CANONICAL_FIELDS:
        assert set(field.inputs) | set(field.evidence) <= set(RECORD_FIELDS), field.name
        assert not (field.derived and field.inputs), f"{field.name}: a derived field carries no source value"
    for key, _, reads in mg_export.FIELDS:
        assert set(reads) <= set(FIELD_NAMES), key
    assert set(HSDS_FIELDS) <= set(FIELD_NAMES)


def test_meeting_guide_keys_are_the_schema_the_tests_validate() -> None:
    schema = json.loads((REPO / "tests/fixtures/meeting_guide/meeting-guide.schema.json").read_text())
    assert {key for key, _, _ in mg_export.FIELDS} == set(schema["items"]["properties"])
    assert set(mg_export.DERIVED) <= {key for key, _, _ in mg_export.FIELDS}


def test_hsds_fields_named_exist_in_the_published_datapackage(demo_release: Path) -> None:
    package = json.loads((demo_release / "hsds" / "datapackage.json").read_text())
    columns = {(r["name"], f["name"]) for r in package["resources"] for f in r["schema"]["fields"]}
    for field, targets in HSDS_FIELDS.items():
        for target in targets.split(", "):
            assert tuple(target.split(".")) in columns, f"{field} → {target}"


def test_every_stored_quarantine_reason_is_documented(demo_home: Path) -> None:
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as con:
        stored = {r for (r,) in con.sql("SELECT DISTINCT reason FROM core.quarantine").fetchall()}
    assert stored and stored <= set(quarantine_reasons())
    assert {"unpublished_at_source", "dq:weekday_present", "dq:source_key_unique_within_fetch"} <= stored
