"""The failure callback: always logged, e-mail and Slack when configured, never raising."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import airflow.utils.email  # noqa: F401  (Airflow configures logging on import: before caplog attaches)
import pytest

from clearinghouse import alerts
from foundation.settings import variable

EMAIL_ENV, SLACK_ENV = variable("alert_email"), variable("alert_slack_webhook")


class GateFailed(RuntimeError):
    """Stands in for ``warehouse.quality.QualityGateFailed`` (same ``failed`` shape, no GX import)."""

    def __init__(self) -> None:
        super().__init__("critical quality checks failed")
        self.failed = [{"suite": "release", "expectation": "no_contacts_in_notes", "unexpected_count": 2,
                        "examples": [{"meeting_id": "m1"}]}]  # fmt: skip


CONTEXT = {
    "task_instance": SimpleNamespace(dag_id="clearinghouse_publish", task_id="publish", log_url="http://af/log"),
    "run_id": "manual__2026-03-20",
    "exception": GateFailed(),
}


@pytest.fixture
def quiet_channels(monkeypatch):
    monkeypatch.delenv(EMAIL_ENV, raising=False)
    monkeypatch.delenv(SLACK_ENV, raising=False)


def test_message_names_the_task_run_and_each_failed_check():
    subject, body = alerts.message(CONTEXT)
    assert subject == "clearinghouse: clearinghouse_publish.publish failed (run manual__2026-03-20)"
    assert "- release.no_contacts_in_notes: 2 rows, e.g. [{'meeting_id': 'm1'}]" in body
    assert body.endswith("log: http://af/log")


def test_alert_logs_by_default(quiet_channels, caplog):
    with caplog.at_level(logging.ERROR, logger="clearinghouse.alerts"):
        alerts.alert(CONTEXT)
    assert "no_contacts_in_notes" in caplog.text


def test_alert_posts_to_the_slack_webhook(quiet_channels, monkeypatch):
    posted: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            posted.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv(SLACK_ENV, f"http://127.0.0.1:{server.server_address[1]}/hook")
        alerts.alert(CONTEXT)
    finally:
        server.shutdown()
        server.server_close()
    assert "no_contacts_in_notes" in posted[0]["text"]


def test_alert_emails_through_airflow_and_survives_a_broken_channel(quiet_channels, monkeypatch, caplog):
    sent: list[dict] = []
    monkeypatch.setattr("airflow.utils.email.send_email", lambda **kw: sent.append(kw))
    monkeypatch.setenv(EMAIL_ENV, "ops@example.org, oncall@example.org")
    monkeypatch.setenv(SLACK_ENV, "http://127.0.0.1:9/unreachable")
    alerts.alert(CONTEXT)
    assert sent[0]["to"] == ["ops@example.org", "oncall@example.org"]
    assert "no_contacts_in_notes" in sent[0]["html_content"]
    assert "Slack alert failed" in caplog.text
