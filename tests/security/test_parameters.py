"""Paths built from parameters: the replay date (command line, DAG param), source ids, release ids.

``--replay ../../etc`` once exited 0 and ``archive.fetches('a', '../b/2026-01-01')`` returned source b's
fetch; now a parameter that is not what it must be is an error that says so, and a path built from an id
or a date never leaves its folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from extractors.archive import Archive
from foundation.paths import UnsafePath, component, inside, replay_day
from foundation.source import Source
from tests.conftest import REPO

BAD_DAYS = ["../../etc", "2026-01-01/../../b", "2026-13-45", "20260101", "/etc", "2026-1-1"]


@pytest.mark.parametrize("value", ["../../etc", "2026-02-30", "yesterday"])
def test_run_replay_refuses_anything_but_a_date(home: Path, value: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "clearinghouse.cli", "run", "--replay", value],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1
    assert "the replay date must be a day written YYYY-MM-DD" in done.stderr
    assert repr(value) in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (home / "published").exists(), "nothing ran"


@pytest.mark.parametrize("value", BAD_DAYS)
def test_replay_day_accepts_only_calendar_days(value: str) -> None:
    with pytest.raises(UnsafePath, match="YYYY-MM-DD"):
        replay_day(value)
    assert replay_day("2026-11-22") == "2026-11-22"


def test_dag_params_replay_date_are_validated() -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.definitions.param import ParamValidationError

    bag = DagBag(dag_folder=str(REPO / "dags"))
    dags = [
        bag.dags["clearinghouse_nightly"],
        *(d for i, d in bag.dags.items() if i.startswith("clearinghouse_source_")),
    ]
    assert len(dags) > 1
    for dag in dags:
        param = dag.params.get_param("replay_date")
        for value in ("../../etc", "2026-01-01/../x", "x2026-01-01"):
            with pytest.raises(ParamValidationError):
                param.resolve(value)
        assert param.resolve("2026-11-22") == "2026-11-22"
        assert param.resolve(None) is None


def test_the_replay_task_checks_the_date_too(home: Path) -> None:
    """A run started some other way (an old DAG version, an API call that skipped validation) still fails
    with the message, before any path is built."""
    from clearinghouse.pipeline import fetch_one

    source = Source(id="sussex-aa", name="Sussex", fellowship="AA", kind="meeting_guide", url="https://x.org/f")
    with pytest.raises(UnsafePath, match="YYYY-MM-DD"):
        fetch_one(source, replay_day="../../etc")


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    raw = tmp_path / "raw"
    for source_id in ("a", "b"):
        day = raw / source_id / "2026-01-01"
        day.mkdir(parents=True)
        (day / f"{source_id}_20260101T000000000000Z.fetch.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("not for sources")
    return Archive(raw)


def test_archive_paths_stay_in_their_source_folder(archive: Archive) -> None:
    assert [p.name for p in archive.fetches("a", "2026-01-01")] == ["a_20260101T000000000000Z.fetch.json"]
    with pytest.raises(UnsafePath):
        archive.fetches("a", "../b/2026-01-01")
    for source_id in ("../b", "..", "a/../b", "", "a\\b"):
        with pytest.raises(UnsafePath):
            archive.fetches(source_id)
    for rel in ("../secret.txt", "a/../../secret.txt", "/etc/passwd"):
        with pytest.raises(UnsafePath):
            archive.read_body(rel)
        with pytest.raises(UnsafePath):
            archive.has(rel)


def test_rollback_refuses_a_release_id_that_is_a_path(home: Path) -> None:
    from clearinghouse.cli import main

    for release_id in ("../../etc", "..", "releases/../x"):
        assert main(["publish", "--rollback", release_id]) == 1


def test_path_helpers() -> None:
    root = Path("/srv/home")
    assert inside(root, "raw", "a") == root / "raw" / "a"
    with pytest.raises(UnsafePath, match="leads outside"):
        inside(root, "raw", "../../etc")
    assert component("sussex-aa") == "sussex-aa"
    with pytest.raises(UnsafePath, match="one file or folder"):
        component("a/b")


def test_a_symlink_inside_the_archive_is_followed_before_judging(archive: Archive, tmp_path: Path) -> None:
    """The cheap path of ``inside`` (plain components below the root) must not skip a symlink among them."""
    (archive.root / "a" / "out").symlink_to(tmp_path)  # raw/a/out -> the home, outside raw/
    (archive.root / "a" / "in").symlink_to(archive.root / "b")  # raw/a/in -> raw/b, still inside
    for rel in ("a/out/secret.txt", "a/out/never-written"):
        with pytest.raises(UnsafePath):
            archive.has(rel)
    assert archive.has("a/in/2026-01-01/b_20260101T000000000000Z.fetch.json")
    assert not archive.has("a/2026-01-01/missing/deeper.json")
