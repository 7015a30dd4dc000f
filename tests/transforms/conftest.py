"""Shared fixtures: every real source normalized once per test session."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tests.transforms import realdata
from transforms.normalize import NormalizeResult, normalize


@pytest.fixture(scope="session")
def real_staging() -> pa.Table:
    return realdata.staging()


@pytest.fixture(scope="session")
def real(real_staging: pa.Table) -> NormalizeResult:
    return normalize(real_staging, realdata.SOURCES)


def row(table: pa.Table, source_id: str, source_key: str) -> dict[str, Any]:
    """The one row of ``table`` for (source_id, source_key)."""
    mask = pc.and_(pc.equal(table["source_id"], source_id), pc.equal(table["source_key"], source_key))
    rows = table.filter(mask).to_pylist()
    assert len(rows) == 1, f"{len(rows)} rows for {source_id}/{source_key}"
    return rows[0]
