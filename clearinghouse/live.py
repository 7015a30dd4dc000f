"""Live mode (``make run LIVE=1``): before a live night starts, check that this machine can reach the sources.

Without a network every source fails anyway, but only after the client's retries and backoff (about 7 s per
host at the default settings) and Airflow's start-up: minutes spent to learn nothing. A TCP connection to any
one registry host takes a fraction of a second; when none of them answers within a few seconds, the run is not
started and the operator is told why. The hosts are dialled directly, as the fetch client connects.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from foundation.source import Source

PREFLIGHT_TIMEOUT_S = 5.0
MAX_HOSTS = 64
"""Enough to tell "the network is down" from "some sites are down"; a national registry is not dialled whole."""

Connect = Callable[[tuple[str, int], float], object]


def _targets(sources: Iterable[Source]) -> list[tuple[str, int]]:
    seen: dict[tuple[str, int], None] = {}
    for s in sources:
        if s.enabled and not s.link_only:
            parts = urlsplit(s.url)
            seen.setdefault((parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)))
    return list(seen)[:MAX_HOSTS]


def _kind(error: OSError) -> str:
    if isinstance(error, socket.gaierror):
        return "DNS lookup failed"
    if isinstance(error, TimeoutError):
        return "no answer"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    return "network error"


def preflight(
    sources: Iterable[Source], *, timeout_s: float = PREFLIGHT_TIMEOUT_S, connect: Connect = socket.create_connection
) -> str | None:
    """``None`` as soon as one host accepts a TCP connection; otherwise why none did, for the operator."""
    targets = _targets(sources)
    if not targets:
        return None
    answers: queue.Queue[tuple[tuple[str, int], OSError | None]] = queue.Queue()

    def dial(target: tuple[str, int]) -> None:
        try:
            conn = connect(target, timeout_s)
            close = getattr(conn, "close", None)
            if close:
                close()
            answers.put((target, None))
        except OSError as exc:
            answers.put((target, exc))

    for target in targets:  # daemon threads: a DNS lookup that hangs must not hold the process at exit
        threading.Thread(target=dial, args=(target,), daemon=True, name=f"preflight {target[0]}").start()
    deadline = time.monotonic() + timeout_s
    failures: dict[tuple[str, int], OSError] = {}
    while len(failures) < len(targets):
        try:
            target, error = answers.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if error is None:
            return None
        failures[target] = error
    kinds = Counter(_kind(e) for e in failures.values())
    silent = len(targets) - len(failures)
    summary = ", ".join(f"{what} for {n}" for what, n in kinds.most_common())
    if silent:
        summary += f"{', ' if summary else ''}no answer within {timeout_s:g} s from {silent}"
    example = next(iter(failures.items()), None)
    shown = f" (e.g. {example[0][0]}: {example[1]})" if example else ""
    return (
        f"this machine reaches none of {len(targets)} registry hosts: {summary}{shown}. Check the network and "
        "DNS, then run again; nothing was fetched and the latest release is unchanged"
    )
