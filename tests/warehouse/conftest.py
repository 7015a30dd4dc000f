"""The demo warehouse and its release: every source of ``sources/demo.yaml``, answered from the recorded
snapshots by the demo server, through ``clearinghouse run`` — what ``make run`` builds, without Airflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearinghouse import demo
from clearinghouse.cli import main


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``CLEARINGHOUSE_HOME`` after one demo run (the environment is restored afterwards)."""
    home = tmp_path_factory.mktemp("demo") / "home"
    server, url = demo.start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CLEARINGHOUSE_HOME", str(home))
            mp.setenv("CLEARINGHOUSE_DEMO_URL", url)
            mp.delenv("CLEARINGHOUSE_SOURCES", raising=False)
            mp.delenv("CLEARINGHOUSE_REGIONS", raising=False)
            mp.delenv("CLEARINGHOUSE_S3_BUCKET", raising=False)
            # Every format per region (opted in), so the exporter tests check each region's copies too; the
            # default (feed and index only) is tested in test_release_store.py.
            mp.setenv("CLEARINGHOUSE_REGION_FORMATS", "all")
            assert main(["run"]) == 0
    finally:
        server.shutdown()
    return home


@pytest.fixture(scope="session")
def demo_release(demo_home: Path) -> Path:
    """The folder ``latest`` points at after the demo run."""
    return (demo_home / "published" / "latest").resolve()
