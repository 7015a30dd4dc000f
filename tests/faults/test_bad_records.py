"""The bad-record corpus through the whole pipeline: each record's fate, one test per record.

One ``clearinghouse run`` over the corpus feed (``tests/faults/corpus.py``) and a healthy real feed. A bad
record must never take its source or the run down: it is quarantined with its reason, or published
cleaned, redacted or, for legitimate text such as emoji and right-to-left scripts, exactly as given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.conftest import SNAPSHOTS
from tests.faults.conftest import Observe
from tests.faults.corpus import CORPUS, SOURCE_ID, BadRecord, Published, Quarantined, feed, show
from tests.faults.harness import FAST_CLIENT, encode, latest, mg_source, run, run_state, write_registry
from tests.faults.report import shorten
from tests.faults.server import Reply, fault_sites

pytestmark = pytest.mark.slow
HEALTHY = "sussex-aa"


@pytest.fixture(scope="module")
def corpus_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("corpus") / "home"
    with pytest.MonkeyPatch.context() as mp, fault_sites() as new_site:
        mp.setenv("CLEARINGHOUSE_HOME", str(home))
        mp.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
        for name, value in FAST_CLIENT.items():
            mp.setenv(name, value)
        sussex = (SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json").read_bytes()
        sources = [
            mg_source(SOURCE_ID, new_site().route("/corpus.json", Reply(body=encode(feed())))),
            mg_source(HEALTHY, new_site().route("/sussex.json", Reply(body=sussex))),
        ]
        assert run(write_registry(home.parent / "sources.yaml", sources)) == 0
    return home


@pytest.fixture(scope="module")
def published(corpus_home: Path) -> dict[str, dict[str, Any]]:
    """Published rows of the corpus source by source key."""
    rows = pq.read_table(latest(corpus_home) / "meetings.parquet").to_pylist()
    return {s["source_key"]: row for row in rows for s in row["sources"] if s["source_id"] == SOURCE_ID}


@pytest.fixture(scope="module")
def quarantined(corpus_home: Path) -> dict[int, dict[str, Any]]:
    """Quarantine rows of the corpus source by record index (its position in the feed)."""
    with duckdb.connect(str(corpus_home / "warehouse.duckdb"), read_only=True) as con:
        table = con.sql("SELECT * FROM core.quarantine WHERE source_id = ?", params=[SOURCE_ID]).to_arrow_table()
    return {row["record_index"]: row for row in table.to_pylist()}


def test_source_and_run_survive_the_corpus(corpus_home: Path) -> None:
    manifest = run_state(corpus_home).manifest
    assert {s["id"]: s["status"] for s in manifest["sources"]} == {SOURCE_ID: "ok", HEALTHY: "ok"}


def test_every_corpus_record_is_accounted_for(corpus_home: Path) -> None:
    parsed, normalized, quarantined = run_state(corpus_home).reconciliation[SOURCE_ID]
    assert parsed == len(CORPUS) == normalized + quarantined
    assert quarantined == sum(isinstance(r.outcome, Quarantined) for r in CORPUS)


def _observed(record: BadRecord, index: int, published: dict, quarantined: dict) -> str:
    if index in quarantined:
        row = quarantined[index]
        return f"quarantined: {row['reason']} (value {shorten(row['value'], 40)!r})"
    row = published.get(record.slug)
    if row is None:
        return "neither published nor quarantined (lost)"
    fields = record.outcome.fields if isinstance(record.outcome, Published) else {"name": None}
    return "published with " + ", ".join(f"{k}={show(row[k])}" for k in fields)


@pytest.mark.parametrize(("index", "record"), enumerate(CORPUS), ids=[f"{i}-{r.slug}" for i, r in enumerate(CORPUS)])
def test_record_outcome(index: int, record: BadRecord, published: dict, quarantined: dict, observe: Observe) -> None:
    observe(
        "bad records (whole pipeline)",
        f"{record.slug}: {record.problem}",
        record.expected,
        _observed(record, index, published, quarantined),
    )
    if isinstance(record.outcome, Quarantined):
        row = quarantined.get(index)
        assert row is not None, f"{record.slug} was not quarantined"
        assert row["reason"] == record.outcome.reason
        assert row["detail"]
        if record.outcome.value is not None:
            assert row["value"] == record.outcome.value
    else:
        assert index not in quarantined, quarantined.get(index)
        row = published[record.slug]
        assert {k: row[k] for k in record.outcome.fields} == record.outcome.fields


def test_quarantined_records_are_not_published(published: dict, quarantined: dict) -> None:
    names = {row["name"] for row in published.values()}
    for index in quarantined:
        item = feed()[index]
        assert item["name"] not in names or item["slug"] == "duplicate"


def test_healthy_source_publishes_every_record_beside_the_corpus(corpus_home: Path) -> None:
    parsed, normalized, quarantined = run_state(corpus_home).reconciliation[HEALTHY]
    assert parsed == 123 == normalized + quarantined


def test_every_reason_the_corpus_is_quarantined_for_is_documented(corpus_home: Path) -> None:
    """The data dictionary lists each reason exactly as ``core.quarantine`` stores it."""
    from warehouse.dictionary import quarantine_reasons

    with duckdb.connect(str(corpus_home / "warehouse.duckdb"), read_only=True) as con:
        stored = {r for (r,) in con.sql("SELECT DISTINCT reason FROM core.quarantine").fetchall()}
    assert len(stored) >= 4 and stored <= set(quarantine_reasons())
