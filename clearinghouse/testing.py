"""Crash points: where the crash tests make a run die as a machine that loses power would (SIGKILL).

``crash_point(name)`` does nothing unless the environment variable ``CLEARINGHOUSE_CRASH_AT`` equals
``name``. Then it kills its own process with SIGKILL (no ``finally``, no ``atexit``, no flush): at once, or,
when ``CLEARINGHOUSE_CRASH_AFTER_S`` is set, that many seconds later from a timer thread, so the kill lands
inside the stage's work rather than at its start (a run that ends first is killed on its way out: the
timer is not a daemon). Only ``tests/faults/test_crash.py`` sets them.
"""

from __future__ import annotations

import os
import signal
import threading

CRASH_AT = "CLEARINGHOUSE_CRASH_AT"
CRASH_AFTER_S = "CLEARINGHOUSE_CRASH_AFTER_S"


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def crash_point(name: str) -> None:
    """Kill this process (now or after ``CLEARINGHOUSE_CRASH_AFTER_S``) if ``CLEARINGHOUSE_CRASH_AT`` is ``name``."""
    if os.environ.get(CRASH_AT) != name:
        return
    delay = float(os.environ.get(CRASH_AFTER_S) or 0)
    if delay <= 0:
        _kill()
    threading.Timer(delay, _kill).start()
