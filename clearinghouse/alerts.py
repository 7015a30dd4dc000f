"""Failure alerts: the ``on_failure_callback`` of the DAG tasks, so a blocked release is seen, not found.

Always logged. When set, ``CLEARINGHOUSE_ALERT_EMAIL`` (comma-separated addresses; sent with Airflow's
configured SMTP, ``[smtp]`` / ``smtp_default``) and ``CLEARINGHOUSE_ALERT_SLACK_WEBHOOK`` (an incoming
webhook URL) receive the same message. A failing channel is logged and never masks the task failure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from html import escape
from typing import Any

from foundation.settings import settings

log = logging.getLogger("clearinghouse.alerts")
MAX_CHECKS = 10


def message(context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) naming the task, the run and — for a quality gate — each failed check."""
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = context.get("run_id", "?")
    exc = context.get("exception")
    subject = f"clearinghouse: {dag_id}.{task_id} failed (run {run_id})"
    lines = [subject, f"error: {type(exc).__name__}: {exc}" if exc else "error: (no exception in context)"]
    for check in (getattr(exc, "failed", None) or [])[:MAX_CHECKS]:
        count = check.get("unexpected_count")
        lines.append(
            f"- {check.get('suite')}.{check.get('expectation')}: "
            f"{f'{count} rows' if count is not None else 'table-level'}, e.g. {check.get('examples', [])[:2]}"
        )
    if log_url := getattr(ti, "log_url", None):
        lines.append(f"log: {log_url}")
    return subject, "\n".join(lines)


def alert(context: Mapping[str, Any]) -> None:
    """Airflow ``on_failure_callback``: log, then e-mail and/or post to Slack when configured."""
    subject, body = message(context)
    log.error("%s", body)
    cfg = settings()
    if recipients := cfg.alert_email:
        try:
            from airflow.utils.email import send_email

            send_email(to=[r.strip() for r in recipients.split(",") if r.strip()], subject=subject,
                       html_content=f"<pre>{escape(body)}</pre>")  # fmt: skip
        except Exception:
            log.exception("alert e-mail to %s failed", recipients)
    if webhook := cfg.alert_slack_webhook:
        try:
            import requests

            requests.post(webhook, json={"text": body}, timeout=10).raise_for_status()
        except Exception:
            log.exception("Slack alert failed")
