"""One alert per run: a digest of what an operator must look at, sent to every configured hook.

The digest names how the run ended (published, nothing to publish, blocked by a gate, failed, with the
reason), the sources that failed, were held or went stale (each with its reason), and the sources whose
quarantine spiked. A clean night sends nothing; a night where only some sources failed succeeds and sends one
digest. Hooks: always the log; e-mail over SMTP to ``CLEARINGHOUSE_ALERT_EMAIL`` (server
``CLEARINGHOUSE_SMTP_HOST`` and ``CLEARINGHOUSE_SMTP_PORT``; ``_STARTTLS``, ``_USER``, ``_PASSWORD``); a
Slack-style webhook (``CLEARINGHOUSE_ALERT_SLACK_WEBHOOK``, JSON ``{"text": …}``). A failing hook is logged
and never masks the run's outcome.

``clearinghouse run`` sends the digest when it ends; in Airflow the DAG-level callbacks do (``on_run_end``),
once per DAG run, never once per failed task.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from foundation.settings import Settings, settings

log = logging.getLogger("clearinghouse.alerts")
MAX_LINES = 25
"""Sources or checks listed per section; the rest are counted."""
OUTCOME = {
    "published": "published",
    "nothing_to_publish": "NOTHING TO PUBLISH (exit 2)",
    "blocked": "BLOCKED by a gate (exit 3)",
    "failed": "FAILED (exit 1)",
    "abandoned": "ABANDONED",
    "running": "FAILED before it finished (exit 1)",
    "built": "built (published by clearinghouse_publish)",
}


@dataclass(frozen=True)
class Digest:
    subject: str
    body: str
    urgent: bool
    """The run did not publish: the operator must act (``False``: published, with sources to look at)."""


def _section(title: str, lines: Sequence[str]) -> list[str]:
    if not lines:
        return []
    shown = [f"- {line}" for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        shown.append(f"- … and {len(lines) - MAX_LINES} more")
    return ["", f"{title} ({len(lines)}):", *shown]


def digest(
    run: Mapping[str, Any],
    sources: Sequence[Mapping[str, Any]],
    spikes: Sequence[Mapping[str, Any]] = (),
    where: str = "",
) -> Digest | None:
    """The run's digest, or ``None`` when there is nothing to tell (published, every source healthy, no spike).

    ``run``: ``run_id``, ``status``, ``error``, ``summary`` (``ops.runs``); ``sources``: the run's source report
    (``warehouse.runs.source_statuses``); ``spikes``: ``warehouse.runs.quarantine_spikes``.
    """
    status = run.get("status") or "failed"
    sick = [s for s in sources if s.get("status") in ("failed", "held", "stale")]
    if status in ("published", "built") and not sick and not spikes:
        return None
    summary = run.get("summary") or {}
    meetings = (summary.get("counts") or {}).get("meetings")
    subject = f"clearinghouse {where or 'run'} {run['run_id']}: {OUTCOME.get(status, status)}"
    if sick:
        subject += f", {len(sick)} source(s) not ok"
    lines = [subject, "", f"outcome: {OUTCOME.get(status, status)}"]
    if status == "published":
        lines.append(f"release {run.get('release_id') or summary.get('release_id')}: {meetings} meetings")
        gate = summary.get("gate") or {}
        if gate.get("status") == "accepted":
            lines.append(f"gate: a drop of {gate.get('drop', 0):.0%} was accepted by the operator")
    else:
        lines.append("latest still points at the previous release")
    if run.get("error"):
        lines.append(f"reason: {run['error']}")
    for check in ((summary.get("quality") or {}).get("failed_checks") or [])[:MAX_LINES]:
        count = check.get("unexpected_count")
        lines.append(f"- {check.get('suite')}.{check.get('expectation')}: "
                     f"{f'{count} rows' if count is not None else 'table-level'}, "
                     f"e.g. {(check.get('examples') or [])[:2]}")  # fmt: skip
    lines += _section(
        "sources failed, held or stale (their last good data stays published)",
        [f"{s['id']}: {s['status']}" + (f" — {s['reason']}" if s.get("reason") else "") for s in sick],
    )
    lines += _section(
        "quarantine spikes",
        [f"{s['source_id']}: {s['quarantined']} of {s['parsed']} records quarantined ({s['share']:.0%}; "
         f"previous run {s['previous_share']:.0%})" if s.get("previous_share") is not None else
         f"{s['source_id']}: {s['quarantined']} of {s['parsed']} records quarantined ({s['share']:.0%})"
         for s in spikes],
    )  # fmt: skip
    lines += ["", 'what to do: docs/operators.md, "Exit codes and alerts"; `clearinghouse runs` lists recent runs']
    return Digest(subject, "\n".join(lines), urgent=status not in ("published", "built"))


def send(message: Digest, cfg: Settings | None = None) -> dict[str, str]:
    """Log the digest, then e-mail and post it where configured; returns each hook's outcome."""
    cfg = cfg or settings()
    level = logging.ERROR if message.urgent else logging.WARNING
    log.log(level, "alert: %s", message.subject)  # one line, for progress views that show single lines
    log.log(level, "%s", message.body)
    sent = {"log": "ok"}
    if cfg.alert_email:
        recipients = [r.strip() for r in cfg.alert_email.split(",") if r.strip()]
        try:
            _email(message, recipients, cfg)
            sent["email"] = "ok"
        except Exception as exc:  # a hook that fails must not mask the run's outcome
            log.exception("alert e-mail to %s via %s:%s failed", recipients, cfg.smtp_host, cfg.smtp_port)
            sent["email"] = f"failed: {exc}"
    if cfg.alert_slack_webhook:
        try:
            import requests

            requests.post(cfg.alert_slack_webhook, json={"text": message.body}, timeout=10).raise_for_status()
            sent["webhook"] = "ok"
        except Exception as exc:
            log.exception("alert webhook failed")
            sent["webhook"] = f"failed: {exc}"
    return sent


def _email(message: Digest, recipients: list[str], cfg: Settings) -> None:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = cfg.alert_from
    mail["To"] = ", ".join(recipients)
    mail.set_content(message.body)
    with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=30) as smtp:
        if cfg.smtp_starttls:
            smtp.starttls()
        if cfg.smtp_user:
            smtp.login(cfg.smtp_user, cfg.smtp_password or "")
        smtp.send_message(mail)


def run_digest(
    run_id: str, where: str = "", sources_path: Path | None = None, cfg: Settings | None = None
) -> Digest | None:
    """The digest of one run, read from the warehouse (read-only; waits briefly for a writer's lock)."""
    from extractors.registry import cached_registry
    from warehouse import db, runs

    cfg = cfg or settings()
    if not cfg.warehouse_path.exists():  # the run failed before anything was loaded
        return None
    sources = [s for s in cached_registry(sources_path or cfg.sources_path) if s.enabled]
    with db.connect(cfg.warehouse_path, read_only=True, lock_wait_s=min(cfg.lock_wait_s, 60)) as con:
        run = runs.run_record(con, run_id)
        if run is None:
            return None
        return digest(run, runs.source_statuses(con, run_id, sources), runs.quarantine_spikes(con, run_id), where)


def on_run_end(context: Mapping[str, Any], failed: bool) -> None:
    """The DAG-level success and failure callback: one digest per DAG run, whatever failed inside it.

    A run that failed before it wrote the warehouse (or whose warehouse cannot be read) still alerts, with
    the DAG, the run and Airflow's reason.
    """
    from foundation.ids import safe_run_id

    dag = context.get("dag")
    dag_id = getattr(dag, "dag_id", None) or "?"
    run_id = str(context.get("run_id") or getattr(context.get("dag_run"), "run_id", "?"))
    try:
        message = run_digest(safe_run_id(run_id), where=dag_id)
    except Exception as exc:
        log.warning("could not read run %s from the warehouse for its digest: %s", run_id, exc)
        message = None
    if message is None and failed:
        reason = context.get("reason") or "a task failed"
        ti = context.get("task_instance") or context.get("ti")
        detail = f" (task {getattr(ti, 'task_id', '?')}: {context.get('exception')})" if ti else ""
        subject = f"clearinghouse {dag_id} {run_id}: FAILED"
        message = Digest(subject, f"{subject}\nreason: {reason}{detail}\nsee the task logs in Airflow", urgent=True)
    if message is not None:
        send(message)
