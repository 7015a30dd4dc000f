"""Test settings: every test gets its own CLEARINGHOUSE_HOME; Airflow state lives in a session temp dir."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SNAPSHOTS = REPO / "sources" / "snapshots"

# Airflow reads its configuration at import: set it before any test imports airflow.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="clearinghouse-airflow-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.setdefault("CLEARINGHOUSE_MIN_DELAY_S", "0")
os.environ.setdefault("CLEARINGHOUSE_BACKOFF_S", "0.01")
# Every test site (fault servers, the demo snapshot server) listens on 127.0.0.1, which the network guard
# refuses in production. The suite allows private addresses explicitly; tests/security runs without it too.
os.environ.setdefault("CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES", "true")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
    return tmp_path / "home"
