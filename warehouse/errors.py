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
