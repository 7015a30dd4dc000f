"""Errors raised by warehouse stages, importable without loading Great Expectations."""

from __future__ import annotations

import json
from typing import Any


class QualityGateFailed(RuntimeError):
    """A critical check failed: nothing is published and ``latest`` keeps the previous release."""

    def __init__(self, failed: list[dict[str, Any]]):
        self.failed = failed
        names = "; ".join(
            f"{f['suite']}.{f['expectation']} ({_count(f)}, e.g. {json.dumps(f['examples'][:2], default=str)})"
            for f in failed
        )
        super().__init__(f"critical quality checks failed, release blocked: {names}")


def _count(failure: dict[str, Any]) -> str:
    n = failure["unexpected_count"]
    return f"{n} rows" if n is not None else "table-level"


class ReleaseBlocked(QualityGateFailed):
    """The publish gate refused the release (a collapse of the meeting count, or a first release with no
    meetings): ``latest`` keeps the previous release. ``failed`` holds the gate as a failed release check."""


class NothingToPublish(RuntimeError):
    """Every source of the run failed or was held: there is nothing new to publish and ``latest`` is kept."""

    def __init__(self, sources: list[dict[str, Any]]):
        self.sources = sources
        by_status: dict[str, list[str]] = {}
        for s in sources:
            by_status.setdefault(s["status"], []).append(s["id"])
        shown = "; ".join(f"{len(ids)} {status}: {', '.join(ids[:5])}{', …' if len(ids) > 5 else ''}"
                          for status, ids in sorted(by_status.items()))  # fmt: skip
        super().__init__(
            f"nothing to publish: every source failed or was held ({shown}); latest is left as it was"
            if sources
            else "nothing to publish: the registry has no enabled source that is fetched"
        )
