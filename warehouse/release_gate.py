"""The publish gate, checked before a release is built: never an empty release, never a collapse nobody accepted.

- Nothing to publish: when every fetched source of the run failed or was held (``stale`` is a failure that
  has lasted), tonight brought nothing new; the run ends ``nothing_to_publish`` and ``latest`` is kept.
- First release: needs at least one healthy source with published meetings.
- Collapse: a release with more than ``CLEARINGHOUSE_MAX_RELEASE_DROP`` (default 20 %) fewer meetings than the
  previous one is blocked, unless an operator accepts it (``clearinghouse publish --accept-drop``).

A block is recorded as a failed critical ``release`` check in ``ops.dq_results``, so the scorecard and the run
summary say what was blocked and why, like any other gate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from warehouse.errors import NothingToPublish, ReleaseBlocked

HEALTHY = ("ok", "unchanged")
"""Source statuses that bring tonight's data (fetched, or fetched and the same bytes)."""
GATE_ASSET = "release.gate"


def _blocked(expectation: str, why: str, example: Mapping[str, Any]) -> ReleaseBlocked:
    return ReleaseBlocked([{"suite": "release", "asset": GATE_ASSET, "expectation": expectation,
                            "severity": "critical", "unexpected_count": None, "examples": [dict(example)],
                            "why": why}])  # fmt: skip


def check(
    sources: Sequence[Mapping[str, Any]],
    meetings: int,
    previous: Mapping[str, Any] | None,
    max_drop: float,
    accept_drop: bool = False,
    fetched_this_run: bool = True,
) -> dict[str, Any]:
    """The gate's verdict for a release of ``meetings`` meetings after the ``previous`` release's manifest.

    ``sources`` is the run's source report (``runs.source_statuses``). ``fetched_this_run``: false for a
    publish-only run (``clearinghouse publish``, ``clearinghouse_publish``), which publishes the warehouse as
    it is: no source failed in it, so there is always something to publish, and a first release needs a source
    with meetings whatever its last fetch did. Raises ``NothingToPublish`` or ``ReleaseBlocked``; otherwise
    returns what was checked, for the run summary.
    """
    fetched = [s for s in sources if s["status"] != "link_only"]
    healthy = HEALTHY if fetched_this_run else ("ok", "unchanged", "failed", "held", "stale")
    if fetched_this_run and not any(s["status"] in HEALTHY for s in fetched):
        raise NothingToPublish([dict(s) for s in fetched])
    before = (previous or {}).get("counts", {}).get("meetings")
    verdict: dict[str, Any] = {"meetings": meetings, "previous_meetings": before, "max_drop": max_drop}
    if before is None:
        if not meetings or not any(s["status"] in healthy and s.get("records") for s in fetched):
            raise _blocked(
                "first_release_has_meetings",
                "a first release needs at least one ok source with meetings",
                {"meetings": meetings, "healthy_sources": [s["id"] for s in fetched if s["status"] in healthy]},
            )
        return {**verdict, "status": "passed"}
    drop = (before - meetings) / before if before else 0.0
    verdict["drop"] = round(drop, 4)
    if drop > max_drop:
        if accept_drop:
            return {**verdict, "status": "accepted"}
        raise _blocked(
            "meeting_count_drop",
            f"no more than {max_drop:.0%} fewer meetings than the previous release (CLEARINGHOUSE_MAX_RELEASE_DROP); "
            "accept a real drop with `clearinghouse publish --accept-drop`",
            {"previous_release": previous.get("release_id") if previous else None, "previous_meetings": before,
             "meetings": meetings, "drop": f"{drop:.1%}", "allowed": f"{max_drop:.0%}"},
        )  # fmt: skip
    return {**verdict, "status": "passed"}


def record(con: duckdb.DuckDBPyConnection, run_id: str, blocked: ReleaseBlocked) -> None:
    """The gate's refusal as failed ``release`` checks of the run (read by the scorecard and the summary)."""
    now = datetime.now(UTC)
    for failed in blocked.failed:
        details = {"asset": failed["asset"], "why": failed["why"], "examples": failed["examples"]}
        con.execute(
            """INSERT INTO ops.dq_results (run_id, suite, expectation, severity, success, unexpected_count, details,
                                           checked_at)
               VALUES (?, 'release', ?, 'critical', false, NULL, ?, ?)""",
            [run_id, failed["expectation"], json.dumps(details, default=str), now],
        )
