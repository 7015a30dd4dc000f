"""Attacks through the real pipeline: a ``clearinghouse run`` over sources served by loopback fault sites.

Every run here sets ``CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES`` itself: the fault sites listen on 127.0.0.1,
which the network guard refuses in production, so a run that must reach them allows private addresses
explicitly, and a run that shows the guard sets it to false.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from foundation.settings import variable
from tests.faults.harness import FAST_CLIENT, write_registry
from tests.faults.server import FaultSite, fault_sites

KEY_ENV = "CLEARINGHOUSE_FEED_KEY_SECURITY"
KEY = "k3y-Sec/7+x=&q"
"""A feed key with characters URLs encode: every encoded form must stay hidden too."""


@dataclass(frozen=True)
class Run:
    """What one ``clearinghouse run`` left behind."""

    home: Path
    exit_code: int

    def fetch(self, source_id: str) -> dict[str, Any]:
        """The source's last fetch record in the raw archive."""
        paths = sorted((self.home / "raw" / source_id).glob("*/*.fetch.json"))
        assert paths, f"{source_id} has no fetch record"
        return json.loads(paths[-1].read_text())

    def fetch_row(self, source_id: str) -> dict[str, Any]:
        """The source's latest row of ``raw.fetches`` in the warehouse."""
        with duckdb.connect(str(self.home / "warehouse.duckdb"), read_only=True) as con:
            relation = con.sql(
                "SELECT * FROM raw.fetches WHERE source_id = ? ORDER BY started_at DESC LIMIT 1", params=[source_id]
            )
            return dict(zip(relation.columns, relation.fetchall()[0], strict=True))

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.home / "published" / "latest" / "manifest.json").read_text())

    def manifest_source(self, source_id: str) -> dict[str, Any]:
        return next(s for s in self.manifest["sources"] if s["id"] == source_id)


def run_pipeline(
    root: Path, sources: list[dict[str, Any]], *, allow_private: bool, monkeypatch: pytest.MonkeyPatch
) -> Run:
    """``clearinghouse run`` in this process over ``sources`` (registry entries), in a fresh home."""
    from clearinghouse.cli import main

    home = root / "home"
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(home))
    monkeypatch.setenv(variable("allow_private_addresses"), "true" if allow_private else "false")
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.delenv("CLEARINGHOUSE_DEMO_URL", raising=False)
    for name, value in FAST_CLIENT.items():
        monkeypatch.setenv(name, value)
    registry = write_registry(root / "sources.yaml", sources)
    return Run(home, main(["run", "--sources", str(registry)]))


@pytest.fixture(scope="module")
def sites() -> Iterator[Callable[[], FaultSite]]:
    with fault_sites() as new_site:
        yield new_site
