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
from clearinghouse.config import LIVE_SOURCES
from extractors.discovery import bmlt
from extractors.discovery.registry_file import read_entries, render
from extractors.registry import Source, load_registry
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


def test_preflight_passes_when_one_host_answers(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert live.preflight(sources("https://nowhere.invalid/feed", f"http://127.0.0.1:{port}/feed")) is None


def test_preflight_names_the_problem_when_no_host_answers(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: refuses connections
        port = closed.getsockname()[1]
        problem = live.preflight(sources("https://a.invalid/feed", "https://b.invalid/x", f"http://127.0.0.1:{port}/"))
    assert problem is not None
    assert problem.startswith("this machine reaches none of 3 registry hosts: DNS lookup failed for 2")
    assert "connection refused for 1" in problem and "latest release is unchanged" in problem


def test_preflight_asks_the_proxy_when_one_is_configured(monkeypatch: pytest.MonkeyPatch):
    dialled: list[tuple[str, int]] = []

    def connect(target: tuple[str, int], timeout: float) -> None:
        dialled.append(target)

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert live.preflight(sources("https://a.invalid/feed"), connect=connect) is None
    assert dialled == [("proxy.internal", 3128)]


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
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)

    def no_airflow(*args, **kwargs):
        raise AssertionError(f"Airflow was started: {args}")

    monkeypatch.setattr(subprocess, "run", no_airflow)
    started = time.monotonic()
    assert main(["airflow-run", "--live"]) == 2
    assert time.monotonic() - started < live.PREFLIGHT_TIMEOUT_S + 2
    err = capsys.readouterr().err
    assert "live run not started" in err and "DNS lookup failed for 2" in err
