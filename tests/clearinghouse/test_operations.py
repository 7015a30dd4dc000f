"""Honest run outcomes on real recorded feeds: a broken night never publishes, says so in its exit code, its
``ops.runs`` row and one alert digest (to a local SMTP server and a local webhook receiver)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest
import yaml
from aiosmtpd.controller import Controller

from clearinghouse.cli import main
from extractors import bmlt
from tests.conftest import SNAPSHOTS
from tests.support import serve

JSON = "application/json"
NEPA = (SNAPSHOTS / "mg" / "aaintergroupnepa_ne-pennsylvania_2026-03-20.json").read_bytes()
SUSSEX = (SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json").read_bytes()
GNY = {part: (SNAPSHOTS / "gny-na" / f"{switcher}.json").read_bytes() for part, switcher in bmlt.SWITCHERS.items()}
GOOD = {
    **{url: (200, GNY[part], JSON) for part, url in bmlt.urls("/na/").items()},
    "/nepa.json": (200, NEPA, JSON),
    "/sussex.json": (200, SUSSEX, JSON),
}
DOWN = {path: (503, b"Service Unavailable", "text/plain") for path in GOOD}


class Mailbox:
    """aiosmtpd handler: keeps every message it is handed."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture(scope="module")
def receivers() -> Iterator[tuple[Mailbox, list[dict], int, str]]:
    """A local SMTP server and a local Slack-style webhook receiver."""
    mailbox = Mailbox()
    with socket.socket() as probe:  # the Controller checks its port by connecting: it needs a real one
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    posts: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        yield mailbox, posts, smtp_port, f"http://127.0.0.1:{hook.server_address[1]}/hook"
    finally:
        hook.shutdown()
        smtp.stop()


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory, receivers):
    """Night 1 on a fresh home: every source down. Night 2: all good. Night 3: every source down again.
    Night 4: the biggest source leaves the registry (a collapse); then an operator accepts the drop."""
    mailbox, posts, smtp_port, hook_url = receivers
    home = tmp_path_factory.mktemp("operations") / "home"
    routes = dict(DOWN)
    outcomes: dict[str, dict] = {}
    with serve(routes) as base, pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLEARINGHOUSE_HOME", str(home))
        mp.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
        mp.setenv("CLEARINGHOUSE_ALERT_EMAIL", "ops@example.org")
        mp.setenv("CLEARINGHOUSE_SMTP_HOST", "127.0.0.1")
        mp.setenv("CLEARINGHOUSE_SMTP_PORT", str(smtp_port))
        mp.setenv("CLEARINGHOUSE_ALERT_SLACK_WEBHOOK", hook_url)
        tmp = tmp_path_factory.mktemp("registry")
        mp.setenv("CLEARINGHOUSE_REGIONS", str(tmp / "no-regions"))  # no operator region to empty by the collapse

        def registry(with_gny: bool) -> Path:
            sources = [{"id": sid, "name": sid, "fellowship": "AA", "kind": "meeting_guide", "url": base + path,
                        "timezone": "America/New_York"} for sid, path in (("nepa-aa", "/nepa.json"),
                                                                          ("sussex-aa", "/sussex.json"))]  # fmt: skip
            if with_gny:
                sources.append({"id": "gny-na", "name": "GNY", "fellowship": "NA", "kind": "bmlt", "url": base + "/na/",
                                "timezone": "America/New_York"})  # fmt: skip
            path = tmp / f"sources-{with_gny}.yaml"
            path.write_text(yaml.safe_dump({"sources": sources}))
            return path

        full, shrunk = registry(True), registry(False)
        mp.setenv("CLEARINGHOUSE_SOURCES", str(full))

        def night(name: str, argv: list[str]) -> None:
            sent = (len(mailbox.messages), len(posts))
            code = main(argv)
            scorecard = home / "reports" / "scorecard.html"
            releases = home / "published" / "releases"
            outcomes[name] = {
                "code": code, "mails": mailbox.messages[sent[0]:], "posts": posts[sent[1]:], "latest": _latest(home),
                "scorecard": scorecard.read_text() if scorecard.exists() else "",
                "releases": sorted(p.name for p in releases.iterdir()) if releases.exists() else [],
            }  # fmt: skip

        night("fresh_all_down", ["run", "--sources", str(full)])
        routes.update(GOOD)
        night("good", ["run", "--sources", str(full)])
        routes.update(DOWN)
        night("all_down_after_good", ["run", "--sources", str(full)])
        routes.update(GOOD)
        mp.setenv("CLEARINGHOUSE_SOURCES", str(shrunk))
        night("collapse", ["run", "--sources", str(shrunk)])
        night("accepted", ["publish", "--sources", str(shrunk), "--accept-drop"])
    return home, outcomes


def _latest(home: Path) -> dict | None:
    manifest = home / "published" / "latest" / "manifest.json"
    if not manifest.exists():
        return None
    data = json.loads(manifest.read_text())
    return {"release_id": data["release_id"], "meetings": data["counts"]["meetings"]}


def _runs(home: Path) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.sql("SELECT run_id, status, error FROM ops.runs ORDER BY started_at").fetchall()


def test_a_fresh_home_whose_sources_all_fail_exits_2_and_publishes_nothing(nights):
    home, outcomes = nights
    night = outcomes["fresh_all_down"]
    assert night["code"] == 2
    assert night["latest"] is None and night["releases"] == []
    _, status, error = _runs(home)[0]
    assert status == "nothing_to_publish"
    assert "every source failed or was held (3 failed: nepa-aa, sussex-aa, gny-na)" in error


def test_a_night_with_every_source_down_after_a_good_one_exits_2_and_keeps_latest(nights):
    _, outcomes = nights
    good, down = outcomes["good"], outcomes["all_down_after_good"]
    assert good["code"] == 0 and good["latest"]["meetings"] > 2000
    assert down["code"] == 2
    assert down["latest"] == good["latest"]  # the same release, the same meetings


def test_a_collapse_is_blocked_until_an_operator_accepts_it(nights):
    _, outcomes = nights
    good, collapse, accepted = outcomes["good"], outcomes["collapse"], outcomes["accepted"]
    assert collapse["code"] == 3
    assert collapse["latest"] == good["latest"]
    assert "release.meeting_count_drop" in collapse["scorecard"]
    assert collapse["releases"] == good["releases"]
    assert accepted["code"] == 0
    assert accepted["latest"]["meetings"] < good["latest"]["meetings"] * 0.8


def test_no_run_is_left_running_and_each_records_its_stages(nights):
    home, _ = nights
    statuses = [status for _, status, _ in _runs(home)]
    assert statuses == ["nothing_to_publish", "published", "nothing_to_publish", "blocked", "published"]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        stages = con.sql("""SELECT list(s.stage ORDER BY s.started_at), list(s.status ORDER BY s.started_at)
                            FROM ops.stage_runs s JOIN ops.runs r USING (run_id) WHERE r.status = 'published'
                            GROUP BY run_id ORDER BY min(r.started_at) LIMIT 1""").fetchall()[0]  # fmt: skip
    assert stages[0] == ["fetch", "load", "normalize", "resolve", "quality", "publish"]
    assert set(stages[1]) == {"done"}


def test_one_digest_per_broken_night_by_mail_and_webhook(nights):
    _, outcomes = nights
    night = outcomes["all_down_after_good"]
    assert len(night["mails"]) == 1 and len(night["posts"]) == 1
    mail = night["mails"][0]
    assert mail["To"] == "ops@example.org"
    assert "NOTHING TO PUBLISH (exit 2)" in mail["Subject"] and "3 source(s) not ok" in mail["Subject"]
    body = mail.get_content()
    assert "- gny-na: failed" in body and "latest still points at the previous release" in body
    assert night["posts"][0]["text"].strip() == body.replace("\r\n", "\n").strip()
    blocked = outcomes["collapse"]["mails"][0].get_content()
    assert "BLOCKED by a gate (exit 3)" in blocked and "release.meeting_count_drop" in blocked


def test_a_clean_night_sends_nothing(nights):
    _, outcomes = nights
    assert outcomes["good"]["mails"] == [] and outcomes["good"]["posts"] == []


def test_runs_lists_the_nights(nights, capsys):
    home, _ = nights
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLEARINGHOUSE_HOME", str(home))
        mp.setenv("COLUMNS", "400")  # one table row per line
        assert main(["runs", "--limit", "10"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for status in ("nothing_to_publish", "published", "blocked"):
        assert status in out
    assert "resolve" in out and "failed 3" in out


def test_sql_queries_the_latest_release_read_only(nights, capsys):
    home, outcomes = nights
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLEARINGHOUSE_HOME", str(home))
        assert main(["sql", "SELECT count(*) AS n FROM meetings"]) == 0
        assert str(outcomes["accepted"]["latest"]["meetings"]) in capsys.readouterr().out
        assert main(["sql", "CREATE TABLE x (a INT)"]) == 1  # read-only
