"""The quality suites on small hand-made warehouses (in-memory DuckDB, ephemeral GX context)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from foundation.timeparse import parse_time
from warehouse import db
from warehouse.quality import QualityGateFailed, validate_core, validate_release, validate_staging
from warehouse.quality.suites import (
    CORE_LINKS,
    CORE_MEETINGS,
    CORE_VERSIONS,
    PUBLISHED_TEXT,
    STAGING,
    SUITES,
    TIME_PATTERN,
)

RUN = "test__run"


@pytest.fixture
def con():
    con = duckdb.connect()
    db.migrate(con)
    yield con
    con.close()


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    con.register("new_rows", pd.DataFrame(rows))
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM new_rows")
    con.unregister("new_rows")


def staging_row(key: str, index: int, source: str = "src-a", **fields) -> dict:
    base = {"source_id": source, "fetch_id": f"{source}@1", "record_index": index, "source_key": key,
            "name": f"Meeting {key}", "weekday": 2, "weekday_raw": "2", "start_time": "19:00",
            "latitude": "40.1", "longitude": "-75.2", "conference_url": None, "source_url": "https://x.org/m",
            "source_status": None}  # fmt: skip
    return base | fields


# --- staging ---------------------------------------------------------------------------------------------


@pytest.fixture
def staged(con):
    insert(
        con,
        "staging.source_records",
        [
            staging_row("good", 0),
            staging_row("no-name", 1, name=None),
            staging_row("no-day", 2, weekday=None, weekday_raw="Someday"),
            staging_row("day-nine", 3, weekday=9, weekday_raw="9"),
            staging_row("bad-time", 4, start_time="soon"),
            staging_row("good", 5),
            staging_row("far-away", 6, latitude="123.4"),
            staging_row("ftp-link", 7, conference_url="ftp://zoom.us/j/1"),
            staging_row("withheld", 8, name=None, source_status="draft"),
            staging_row("other", 0, source="src-b"),
        ],
    )
    return validate_staging(con, RUN, ["src-a@1", "src-b@1"]).to_pylist()


def test_each_failing_record_is_quarantined_once_by_its_first_critical_check(staged):
    reasons = {(q["source_key"], q["record_index"]): q["reason"] for q in staged}
    assert reasons == {
        ("no-name", 1): "dq:name_present",
        ("no-day", 2): "dq:weekday_present",
        ("day-nine", 3): "dq:weekday_in_range",
        ("bad-time", 4): "dq:start_time_parseable",
        ("good", 5): "dq:source_key_unique_within_fetch",
    }


def test_quarantine_rows_show_what_the_source_gave(staged):
    by_key = {q["source_key"]: q for q in staged}
    assert (by_key["no-day"]["field"], by_key["no-day"]["value"]) == ("weekday", "Someday")
    assert (by_key["bad-time"]["field"], by_key["bad-time"]["value"]) == ("start_time", "soon")
    assert by_key["good"]["field"] == "source_key"
    assert "first copy is kept" in by_key["good"]["detail"]


def test_warnings_keep_the_record_and_withheld_records_are_left_to_pre_quarantine(staged):
    keys = {q["source_key"] for q in staged}
    assert not keys & {"far-away", "ftp-link", "withheld", "other"}


def test_staging_results_are_recorded_per_source_and_fetch(con, staged):
    rows = con.sql(
        "SELECT source_id, fetch_id, expectation, success, unexpected_count, severity FROM ops.dq_results "
        "WHERE suite = 'staging'"
    ).fetchall()
    assert len(rows) == 2 * len(STAGING.checks)
    result = {(r[0], r[2]): r for r in rows}
    assert result["src-a", "latitude_in_range"][1:] == ("src-a@1", "latitude_in_range", False, 1, "warning")
    assert result["src-b", "latitude_in_range"][3] is True
    assert result["src-a", "source_key_unique_within_fetch"][4] == 2  # GX counts both copies
    assert result["src-a", "conference_url_http"][3:5] == (False, 1)


def test_staging_is_idempotent_per_run(con, staged):
    validate_staging(con, RUN, ["src-a@1", "src-b@1"])
    (count,) = con.sql("SELECT count(*) FROM ops.dq_results WHERE suite = 'staging'").fetchall()[0]
    assert count == 2 * len(STAGING.checks)


@pytest.mark.parametrize(
    "value", ["18:30", "18:30:00", "6:30 PM", "6:30pm", "7:00a", "7pm", "noon", "Midnight", "12:00 AM", "1830",
              " 7.30 p.m. ", "19h30", "24:00"],
)  # fmt: skip
def test_time_pattern_accepts_the_formats_feeds_use(value):
    assert parse_time(value) is not None
    assert pd.Series([value]).str.match(TIME_PATTERN).all()


@given(st.text(alphabet="0123456789:.hapmPAM ", max_size=9))
def test_time_pattern_never_rejects_a_time_the_parser_reads(value):
    if parse_time(value) is not None:
        assert pd.Series([value]).str.match(TIME_PATTERN).all()


# --- core ------------------------------------------------------------------------------------------------


def version(key: str, **fields) -> dict:
    base = {"source_id": "src-a", "source_key": key, "fetch_id": "src-a@1", "fellowship": "AA", "name": key,
            "weekday": 3, "start_time": "19:00:00", "end_time": "20:00:00", "duration_min": 60,
            "timezone": "America/New_York", "timezone_source": "registry", "attendance": "in_person",
            "address_line": "1 Main St", "geo_precision": "none", "open_closed": "open"}  # fmt: skip
    return base | fields


@pytest.fixture
def core(con):
    def build(*versions: dict, dangling: bool = False) -> duckdb.DuckDBPyConnection:
        insert(con, "core.meeting_versions", list(versions))
        con.execute("INSERT INTO ops.source_state (source_id, current_fetch_id) VALUES ('src-a', 'src-a@1')")
        links = [{"source_id": "src-a", "source_key": v["source_key"], "meeting_id": f"m-{v['source_key']}",
                  "score": 1.0, "reason": "first_seen", "first_linked_at": "2026-01-01",
                  "last_seen_at": "2026-01-02"} for v in versions]  # fmt: skip
        insert(con, "core.meeting_links", links)
        meetings = [{"meeting_id": link["meeting_id"], "sources": [{"source_id": "src-a", "source_key": "k"}]}
                    for link in links[: len(links) - dangling]]  # fmt: skip
        insert(con, "core.meetings", meetings)
        return con

    return build


def test_core_passes_consistent_meetings_and_records_every_expectation(core):
    con = core(version("a"), version("b", attendance="online", address_line=None, conference_url="https://zoom.us/j/1"),
               version("late", start_time="23:30:00", end_time="00:30:00"))  # fmt: skip
    assert validate_core(con, RUN) == {"status": "passed", "failed_checks": []}
    rows = con.sql("SELECT count(*), count(*) FILTER (WHERE success) FROM ops.dq_results WHERE suite = 'core'")
    total = len(CORE_VERSIONS.checks) + len(CORE_MEETINGS.checks) + len(CORE_LINKS.checks)
    assert rows.fetchall() == [(total, total)]


def test_core_blocks_an_invalid_enum_and_names_the_check(core):
    con = core(version("a"), version("weird", attendance="sometimes"))
    with pytest.raises(QualityGateFailed) as failure:
        validate_core(con, RUN)
    (failed,) = failure.value.failed
    assert (failed["expectation"], failed["suite"], failed["unexpected_count"]) == ("attendance_valid", "core", 1)
    assert failed["examples"][0]["source_key"] == "weird"
    assert "attendance_valid (1 rows" in str(failure.value)


def test_core_blocks_a_link_to_a_missing_meeting(core):
    con = core(version("a"), version("b"), dangling=True)
    with pytest.raises(QualityGateFailed) as failure:
        validate_core(con, RUN)
    assert [f["expectation"] for f in failure.value.failed] == ["link_points_at_meeting"]


def test_core_flags_warnings_without_blocking(core):
    con = core(version("a"), version("ghost", attendance="online", address_line=None),
               version("odd", end_time="19:45:00"))  # fmt: skip
    result = validate_core(con, RUN)
    assert result["status"] == "warning"
    names = {f["expectation"]: f for f in result["failed_checks"]}
    assert set(names) == {"online_has_access", "end_matches_duration"}
    assert names["online_has_access"]["examples"][0]["source_key"] == "ghost"
    details = json.loads(
        con.sql("SELECT details FROM ops.dq_results WHERE expectation = 'online_has_access'").fetchall()[0][0]
    )
    assert details["by_source"] == {"src-a": 1}


# --- release ---------------------------------------------------------------------------------------------


def write_release(con: duckdb.DuckDBPyConnection, path: Path, meetings: list[dict]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    rows = [{"meeting_id": f"m{i}", "sources": [{"source_id": "src-a", "source_key": f"k{i}"}],
             "conference_phone": None, **dict.fromkeys(PUBLISHED_TEXT), "name": f"Meeting {i}",
             "venue_name": "Hall", "address_line": "1 Main St", "city": "Lewes"} | m
            for i, m in enumerate(meetings)]  # fmt: skip
    con.register("release_rows", pd.DataFrame(rows))
    con.execute(f"COPY (SELECT * FROM release_rows) TO '{path / 'meetings.parquet'}'")
    con.unregister("release_rows")
    return path


def test_release_blocks_an_email_in_notes(con, tmp_path):
    release = write_release(con, tmp_path, [{}, {"notes": "questions? jane.doe@example.org"}])
    with pytest.raises(QualityGateFailed) as failure:
        validate_release(con, RUN, release, None)
    (failed,) = failure.value.failed
    assert failed["expectation"] == "no_contacts_in_notes"
    assert failed["examples"][0]["meeting_id"] == "m1"


def test_release_blocks_duplicate_meeting_ids(con, tmp_path):
    release = write_release(con, tmp_path, [{"meeting_id": "same"}, {"meeting_id": "same"}, {}])
    with pytest.raises(QualityGateFailed) as failure:
        validate_release(con, RUN, release, None)
    (failed,) = failure.value.failed
    assert (failed["expectation"], failed["unexpected_count"]) == ("meeting_id_unique", 2)


def test_release_allows_the_meetings_own_dial_in_number(con, tmp_path):
    own = {"notes": "Dial +1 646 558 8656, passcode 123", "conference_phone": "+16465588656"}
    release = write_release(con, tmp_path, [own, {}])
    assert validate_release(con, RUN, release, None)["status"] == "passed"


def test_release_blocks_a_meeting_without_provenance(con, tmp_path):
    release = write_release(con, tmp_path, [{}, {"sources": [{"source_id": None, "source_key": None}]}])
    with pytest.raises(QualityGateFailed) as failure:
        validate_release(con, RUN, release, None)
    assert [f["expectation"] for f in failure.value.failed] == ["provenance_present"]


def test_release_blocks_a_collapse_against_the_previous_release(con, tmp_path):
    release = write_release(con, tmp_path, [{}] * 10)
    with pytest.raises(QualityGateFailed) as failure:
        validate_release(con, RUN, release, {"counts": {"meetings": 100}})
    assert {f["expectation"] for f in failure.value.failed} == {"row_count_within_tolerance"}
    assert failure.value.failed[0]["examples"] == [{"observed_value": 10}]


def test_release_flags_a_moderate_change_in_size(con, tmp_path):
    release = write_release(con, tmp_path, [{}] * 12)
    result = validate_release(con, RUN, release, {"counts": {"meetings": 10}})
    assert result["status"] == "warning"
    assert [f["expectation"] for f in result["failed_checks"]] == ["row_count_change_small"]


def test_release_blocks_an_empty_configured_region(con, tmp_path):
    release = write_release(con, tmp_path, [{}])
    (release / "meeting-guide").mkdir()
    (release / "meeting-guide" / "delaware.json").write_text(json.dumps([{"slug": "m0"}]))
    (release / "meeting-guide" / "maryland.json").write_text("[]")
    with pytest.raises(QualityGateFailed) as failure:
        validate_release(con, RUN, release, None, regions=["delaware", "maryland", "virginia"])
    (failed,) = failure.value.failed
    assert failed["expectation"] == "region_not_empty"
    assert [e["region"] for e in failed["examples"]] == ["maryland", "virginia"]


def test_every_check_name_is_unique_within_its_layer():
    for layer in ("staging", "core", "release"):
        names = [c.name for s in SUITES if s.layer == layer for c in s.checks]
        assert len(names) == len(set(names)), layer
