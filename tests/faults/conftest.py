"""Fault-suite fixtures and the fault report printed in the terminal summary (``make test`` output)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest

from tests.faults.report import OBSERVATIONS, Observation

_OUTCOMES: dict[str, str] = {}

Observe = Callable[[str, str, str, str], None]


@pytest.fixture
def observe(request: pytest.FixtureRequest) -> Observe:
    """``observe(area, case, expected, observed)``: one row of the fault report for this test."""

    def record(area: str, case: str, expected: str, observed: str) -> None:
        OBSERVATIONS.append(Observation(area, case, expected, observed, request.node.nodeid))

    return record


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember each test's outcome; a failure in any phase wins over the call's pass."""
    if (report.when == "call" or report.failed) and _OUTCOMES.get(report.nodeid) != "failed":
        _OUTCOMES[report.nodeid] = "xfailed" if hasattr(report, "wasxfail") else report.outcome


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Each fault → expected → observed, grouped by area, with the outcome of the test that observed it."""
    if not OBSERVATIONS:
        return
    width = max(80, terminalreporter.config.get_terminal_writer().fullwidth)
    terminalreporter.write_sep("=", "fault report: fault → expected → observed")
    for area in dict.fromkeys(o.area for o in OBSERVATIONS):
        terminalreporter.write_line(f"[{area}]")
        for o in (o for o in OBSERVATIONS if o.area == area):
            outcome = _OUTCOMES.get(o.nodeid, "?").upper()
            terminalreporter.write_line(f"  {outcome:<8} {o.case}")
            for label, text in (("expected", o.expected), ("observed", o.observed)):
                indent = " " * 11
                terminalreporter.write_line(
                    textwrap.fill(text, width, initial_indent=f"{indent}{label}  ", subsequent_indent=indent + " " * 10)
                )
