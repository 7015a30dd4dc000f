"""An analyst's read-only session on warehouse.duckdb delays the nightly writer, never fails it; a holder that
outlasts ``CLEARINGHOUSE_LOCK_WAIT_S`` fails the stage with a message naming it."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import SNAPSHOTS
from tests.support import serve
from warehouse import db

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold(path: Path, seconds: float) -> subprocess.Popen:
    """A read-only session on ``path`` in another process (an analyst's DuckDB shell), held ``seconds``."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_a_holder_beyond_the_wait_fails_with_how_to_find_it(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with db.connect(path):
        pass
    holder = hold(path, 30)
    try:
        with pytest.raises(db.WarehouseLocked) as caught, db.connect(path, lock_wait_s=1.5):
            pass
    finally:
        holder.kill()
        holder.wait()
    message = str(caught.value)
    assert f"PID {holder.pid}" in message and "waited 2 s" in message
    assert f"lsof {path}" in message and "clearinghouse sql" in message


@pytest.mark.slow
def test_a_read_only_session_held_25_s_at_the_start_delays_the_night_but_does_not_fail_it(
    home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from clearinghouse.cli import main

    body = (SNAPSHOTS / "mg" / "sussexaa_sussex-county-de_2022-09-01.json").read_bytes()
    with serve({"/sussex.json": (200, body, "application/json")}) as base:
        registry = tmp_path / "sources.yaml"
        source = {"id": "sussex-aa", "name": "Sussex", "fellowship": "AA", "kind": "meeting_guide",
                  "url": base + "/sussex.json"}  # fmt: skip
        registry.write_text(yaml.safe_dump({"sources": [source]}))
        home.mkdir(parents=True)
        with db.connect(home / "warehouse.duckdb"):  # the warehouse of earlier nights
            pass
        holder = hold(home / "warehouse.duckdb", 25)
        started = time.monotonic()
        try:
            with caplog.at_level(logging.WARNING, logger="clearinghouse.warehouse"):
                code = main(["run", "--sources", str(registry)])
        finally:
            holder.kill()
            holder.wait()
    elapsed = time.monotonic() - started
    assert code == 0
    manifest = json.loads((home / "published" / "latest" / "manifest.json").read_text())
    assert manifest["counts"]["meetings"] > 0
    assert elapsed >= 20, "the night should have waited for the analyst's session"
    assert f"locked by PID {holder.pid}" in caplog.text and "retrying" in caplog.text
