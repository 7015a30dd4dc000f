"""The live registry (`sources/live/`, what `make run LIVE=1` fetches) and the preflight that stops a live night
at once when this machine reaches no source."""

from __future__ import annotations

import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from clearinghouse import live
from clearinghouse.cli import main
from extractors.discovery import bmlt
from extractors.discovery.registry_file import read_entries, render
from extractors.registry import load_registry
from foundation.settings import LIVE_SOURCES
from foundation.source import Source
from tests.conftest import REPO

SERVER_LIST = REPO / "tests" / "fixtures" / "bmlt" / "serverlist" / "serverList.json"


def test_the_live_registry_is_valid_and_holds_the_na_servers_and_the_current_feeds(capsys: pytest.CaptureFixture):
    sources = load_registry(LIVE_SOURCES)
    assert Counter(s.fellowship for s in sources) == {"NA": 42, "AA": 5, "AL-ANON": 1}
    assert main(["sources", "check", "--sources", str(LIVE_SOURCES)]) == 0
    urls = {s.url for s in sources}
    assert not [u for u in urls if "web.archive.org" in u or "example.org" in u]
    assert {s.url for s in bmlt.parse_server_list(SERVER_LIST.read_bytes(), "list")} <= urls
    assert (
        next(s for s in sources if s.url == "https://bmlt.newyorkna.org/main_server/").id == "gny-na"
    )  # the demo's id


@pytest.mark.parametrize("name", ["na-bmlt.yaml", "tsml-feeds.yaml"])
def test_the_live_files_are_as_discovery_writes_them(name: str, tmp_path: Path, capsys: pytest.CaptureFixture):
    """So a refresh changes only what the directory changed: same order, same keys, same layout."""
    text = (LIVE_SOURCES / name).read_text()
    header = [line.removeprefix("# ") for line in text.split("sources:")[0].splitlines()]
    assert render(read_entries(text, name), header) == text
    if name == "na-bmlt.yaml":
        copy = tmp_path / name
        copy.write_text(text)
        assert main(["sources", "discover", "bmlt", str(SERVER_LIST), "--out", str(copy)]) == 0
        assert "no change" in capsys.readouterr().err and copy.read_text() == text


def sources(*urls: str) -> list[Source]:
    return [Source(id=f"s{i}", name="x", fellowship="AA", kind="meeting_guide", url=u) for i, u in enumerate(urls)]


def test_preflight_passes_when_one_host_answers():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert live.preflight(sources("https://nowhere.invalid/feed", f"http://127.0.0.1:{port}/feed")) is None


def test_preflight_names_the_problem_when_no_host_answers():
    def connect(target: tuple[str, int], timeout: float) -> None:
        if target[0].endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if target[0] == "slow.example":
            time.sleep(timeout + 1)  # a lookup or connection that hangs past the deadline
        return socket.create_connection(target, timeout)

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: refuses connections
        port = closed.getsockname()[1]
        urls = ("https://a.invalid/feed", "https://b.invalid/x", f"http://127.0.0.1:{port}/", "https://slow.example/")
        started = time.monotonic()
        problem = live.preflight(sources(*urls), timeout_s=0.5, connect=connect)
    assert time.monotonic() - started < 1.5
    assert problem is not None
    assert problem.startswith("this machine reaches none of 4 registry hosts: DNS lookup failed for 2")
    assert "connection refused for 1, no answer within 0.5 s from 1" in problem
    assert "latest release is unchanged" in problem


def test_a_live_night_with_no_reachable_source_stops_before_airflow(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
):
    registry = tmp_path / "live.yaml"
    registry.write_text(
        "sources:\n"
        "  - {id: na-a, name: A, fellowship: NA, kind: bmlt, url: 'https://bmlt.a.invalid/main_server/'}\n"
        "  - {id: aa-b, name: B, fellowship: AA, kind: meeting_guide, url: 'https://b.invalid/wp-admin/admin-ajax.php'}\n"
    )
    monkeypatch.setenv("CLEARINGHOUSE_SOURCES", str(registry))

    def no_airflow(*args, **kwargs):
        raise AssertionError(f"Airflow was started: {args}")

    monkeypatch.setattr(subprocess, "run", no_airflow)
    started = time.monotonic()
    assert main(["airflow-run", "--live"]) == 2
    assert time.monotonic() - started < live.PREFLIGHT_TIMEOUT_S + 2
    err = capsys.readouterr().err
    assert "live run not started" in err and "reaches none of 2 registry hosts" in err
