"""The alert digest: what it says for each outcome, nothing on a clean night, never raising when a hook is down.

Delivery to a real local SMTP server and webhook receiver over whole nights: ``test_operations.py``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import airflow.utils.email  # noqa: F401  (Airflow configures logging on import: before caplog attaches)
import pytest

from clearinghouse import alerts
from foundation.settings import variable

EMAIL_ENV, SLACK_ENV = variable("alert_email"), variable("alert_slack_webhook")
HEALTHY = [{"id": "nepa-aa", "status": "ok"}, {"id": "wfs", "status": "link_only"}]
SICK = [*HEALTHY, {"id": "gny-na", "status": "held", "reason": "record count fell to 10 from 1555"},
        {"id": "sussex-aa", "status": "stale", "reason": "HTTP 503"}]  # fmt: skip
PUBLISHED = {"run_id": "r1", "status": "published", "release_id": "R2", "error": None,
             "summary": {"counts": {"meetings": 12103}, "gate": {"status": "passed"}}}  # fmt: skip


def test_a_clean_night_has_nothing_to_tell():
    assert alerts.digest(PUBLISHED, HEALTHY) is None


def test_a_published_night_with_sick_sources_names_each_with_its_reason():
    message = alerts.digest(PUBLISHED, SICK, where="clearinghouse_nightly")
    assert message.subject == "clearinghouse clearinghouse_nightly r1: published, 2 source(s) not ok"
    assert not message.urgent
    assert "release R2: 12103 meetings" in message.body
    assert "- gny-na: held — record count fell to 10 from 1555" in message.body
    assert "- sussex-aa: stale — HTTP 503" in message.body and "nepa-aa" not in message.body


def test_a_quarantine_spike_alone_is_worth_a_digest():
    spike = {"source_id": "nepa-aa", "parsed": 480, "quarantined": 96, "share": 0.2, "previous_share": 0.01}
    message = alerts.digest(PUBLISHED, HEALTHY, [spike])
    assert "- nepa-aa: 96 of 480 records quarantined (20%; previous run 1%)" in message.body


def test_a_blocked_night_names_the_gate():
    failed = {"suite": "release", "expectation": "meeting_count_drop", "unexpected_count": None,
              "examples": [{"previous_meetings": 2115, "meetings": 603}]}  # fmt: skip
    run = {"run_id": "r3", "status": "blocked", "error": "critical quality checks failed",
           "summary": {"quality": {"failed_checks": [failed]}}}  # fmt: skip
    message = alerts.digest(run, HEALTHY)
    assert message.urgent and "BLOCKED by a gate (exit 3)" in message.subject
    assert "latest still points at the previous release" in message.body
    assert "- release.meeting_count_drop: table-level, e.g. [{'previous_meetings': 2115" in message.body


def test_many_sick_sources_are_listed_up_to_a_limit():
    many = [{"id": f"s{i:03}", "status": "failed", "reason": "DNS"} for i in range(300)]
    run = {"run_id": "r4", "status": "nothing_to_publish", "error": "nothing to publish"}
    body = alerts.digest(run, many).body
    assert body.count("\n- s") == alerts.MAX_LINES and "… and 275 more" in body


@pytest.fixture
def quiet_channels(monkeypatch):
    monkeypatch.delenv(EMAIL_ENV, raising=False)
    monkeypatch.delenv(SLACK_ENV, raising=False)


def test_a_broken_hook_is_logged_and_never_raises(quiet_channels, monkeypatch, caplog):
    monkeypatch.setenv(EMAIL_ENV, "ops@example.org")
    monkeypatch.setenv(variable("smtp_host"), "127.0.0.1")
    monkeypatch.setenv(variable("smtp_port"), "9")  # nothing listens
    monkeypatch.setenv(SLACK_ENV, "http://127.0.0.1:9/unreachable")
    with caplog.at_level(logging.WARNING, logger="clearinghouse.alerts"):
        sent = alerts.send(alerts.digest(PUBLISHED, SICK))
    assert sent["log"] == "ok" and sent["email"].startswith("failed") and sent["webhook"].startswith("failed")
    assert "gny-na: held" in caplog.text and "alert e-mail to ['ops@example.org']" in caplog.text


def test_a_dag_run_that_failed_before_writing_the_warehouse_still_alerts(quiet_channels, home: Path, caplog):
    context = {"dag": SimpleNamespace(dag_id="clearinghouse_nightly"), "run_id": "manual__2026-12-06",
               "reason": "task_failure", "task_instance": SimpleNamespace(task_id="list_sources"),
               "exception": RuntimeError("registry unreadable")}  # fmt: skip
    with caplog.at_level(logging.ERROR, logger="clearinghouse.alerts"):
        alerts.on_run_end(context, failed=True)
    assert "clearinghouse clearinghouse_nightly manual__2026-12-06: FAILED" in caplog.text
    assert "task list_sources: registry unreadable" in caplog.text


def test_a_successful_dag_run_without_a_warehouse_says_nothing(quiet_channels, home: Path, caplog):
    with caplog.at_level(logging.WARNING, logger="clearinghouse.alerts"):
        alerts.on_run_end({"dag": SimpleNamespace(dag_id="clearinghouse_publish"), "run_id": "x"}, failed=False)
    assert caplog.text == ""
