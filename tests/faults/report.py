"""The fault report: what each fault test expected and what it observed, printed at the end of the run.

Tests call ``observe`` with values read from the run they checked (statuses, reasons, counts), before
asserting, so a failing test still shows what actually happened. ``conftest.py`` prints the table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Observation:
    area: str
    case: str
    expected: str
    observed: str
    nodeid: str


OBSERVATIONS: list[Observation] = []


def shorten(text: str | None, width: int = 90) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"
