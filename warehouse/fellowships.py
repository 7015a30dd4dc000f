"""The fellowship directory and the registry in the warehouse (``ref.fellowships``, ``ref.registry_sources``,
``ref.us_states``), rewritten before every publish so the parity marts (migration 010) and the release's
referral directory see the current ones."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from foundation.fellowship import Fellowship
from foundation.source import Source
from transforms.refdata import data_rows
from warehouse.exporters.common import temp_table

COLUMNS = ("name", "category", "helps_with", "website", "finder_url", "finder_kind", "how_it_publishes", "listing",
           "access", "why", "terms", "terms_url", "helpline", "evidence", "unverified")  # fmt: skip


def _replace(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    temp_table(con, "sync_rows", rows)
    try:
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM sync_rows")
    finally:
        con.execute("DROP TABLE IF EXISTS sync_rows")


def sync(con: duckdb.DuckDBPyConnection, fellowships: Sequence[Fellowship], sources: Sequence[Source]) -> None:
    """Replace the ref tables with the directory and every registry entry (disabled ones included: an entry
    that is off is not a source the state has)."""
    directory = [f.model_dump() for f in fellowships]
    _replace(con, "ref.fellowships", pa.Table.from_pylist(
        [{"fellowship": d["code"], **{c: d[c] for c in COLUMNS}} for d in directory],
        schema=pa.schema([("fellowship", pa.string()), *((c, pa.list_(pa.string()) if c in ("evidence", "unverified")
                                                          else pa.string()) for c in COLUMNS)]),
    ))  # fmt: skip
    _replace(con, "ref.registry_sources", pa.Table.from_pylist(
        [{"source_id": s.id, "fellowship": s.fellowship, "kind": s.kind, "region": s.region, "country": s.country,
          "fetched": s.enabled and not s.link_only, "url": s.url} for s in sources],
        schema=pa.schema([("source_id", pa.string()), ("fellowship", pa.string()), ("kind", pa.string()),
                          ("region", pa.string()), ("country", pa.string()), ("fetched", pa.bool_()),
                          ("url", pa.string())]),
    ))  # fmt: skip
    states = [r for r in data_rows("regions.csv") if r["country"] == "US"]
    _replace(
        con, "ref.us_states", pa.table({"state": [r["code"] for r in states], "name": [r["name"] for r in states]})
    )
