"""The warehouse side of normalization: read staging, run the pure transform (``transforms.normalize``),
write core, reconcile."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from foundation.model import FIELD_NAMES
from foundation.source import Source

log = logging.getLogger("clearinghouse.normalize")


class ReconciliationError(RuntimeError):
    """parsed ≠ normalized + quarantined for a fetch: a record was lost, which is a bug."""


PENDING_FETCHES = """
    SELECT DISTINCT current_fetch_id FROM ops.source_state
    WHERE current_fetch_id IS NOT NULL
      AND current_fetch_id NOT IN (SELECT fetch_id FROM ops.normalized_fetches)
"""

UNPUBLISHED_AT_SOURCE = "unpublished_at_source"
"""Quarantine reason of records the source itself withholds (BMLT ``published = 0``)."""
UNPUBLISHED_DETAIL = "the source marks this record as {status}; it is not a public listing."
# Records the source itself withholds are quarantined before validation and normalization (duplicate keys
# and other record-level failures are the staging suite's: warehouse.quality.suites.STAGING).
PRE_QUARANTINE = f"""
    SELECT source_id, fetch_id, source_key, record_index, '{UNPUBLISHED_AT_SOURCE}' AS reason,
           'source_status' AS field, source_status AS value,
           replace('{UNPUBLISHED_DETAIL}', '{{status}}', source_status) AS detail
    FROM staging.source_records
    WHERE fetch_id IN (SELECT unnest($fetch_ids)) AND source_status IS NOT NULL
"""


NORMALIZE_BATCH_RECORDS = 100_000
"""Records normalized (and committed) together: bounds memory at a million records; a fetch is never split."""


def batches(sizes: list[tuple[str, int]], limit: int = NORMALIZE_BATCH_RECORDS) -> list[list[str]]:
    """Fetch ids packed in order into batches of at most ``limit`` records (a bigger fetch is a batch alone)."""
    out: list[list[str]] = []
    total = 0
    for fetch_id, records in sizes:
        if not out or total + records > limit:
            out.append([])
            total = 0
        out[-1].append(fetch_id)
        total += records
    return out


def normalize_pending(
    con: duckdb.DuckDBPyConnection, sources: Mapping[str, Source], run_id: str
) -> dict[str, dict[str, int]]:
    """Validate and normalize every current fetch not normalized yet; return counts per source.

    The staging suite validates them all in one run; records it rejects are quarantined before normalization,
    so per fetch parsed = normalized + quarantined still holds. Normalization goes in batches of about
    ``NORMALIZE_BATCH_RECORDS``, one transaction each: a run killed mid-way resumes at the next batch.
    """
    from warehouse.quality import validate_staging

    fetch_ids = [row[0] for row in con.sql(PENDING_FETCHES).fetchall()]
    if not fetch_ids:
        return {}
    pre = con.sql(PRE_QUARANTINE, params={"fetch_ids": fetch_ids}).to_arrow_table()
    pre = pa.concat_tables([pre, validate_staging(con, run_id, fetch_ids).cast(pre.schema)])
    sizes = con.sql(
        """SELECT fetch_id, count(*) FROM staging.source_records WHERE fetch_id IN (SELECT unnest($fetch_ids))
           GROUP BY fetch_id ORDER BY fetch_id""",
        params={"fetch_ids": fetch_ids},
    ).fetchall()
    con.register("pre_quarantine", pre)
    try:
        summary: dict[str, dict[str, int]] = {}
        records = dict(sizes)
        planned = batches(sizes, NORMALIZE_BATCH_RECORDS)
        for number, batch in enumerate(planned, 1):
            log.info("normalizing batch %d/%d: %d fetches, %d records", number, len(planned), len(batch),
                     sum(records[f] for f in batch))  # fmt: skip
            summary |= _normalize_batch(con, sources, batch)
        return summary
    finally:
        con.unregister("pre_quarantine")


def _normalize_batch(
    con: duckdb.DuckDBPyConnection, sources: Mapping[str, Source], fetch_ids: list[str]
) -> dict[str, dict[str, int]]:
    """Normalize the fetches ``fetch_ids`` (``pre_quarantine`` registered) and commit them with their counts."""
    from transforms.normalize import normalize

    staging = con.sql(
        """SELECT * FROM staging.source_records s
           WHERE fetch_id IN (SELECT unnest($fetch_ids))
             AND NOT EXISTS (SELECT 1 FROM pre_quarantine q
                             WHERE q.fetch_id = s.fetch_id AND q.record_index = s.record_index)
           ORDER BY fetch_id, record_index""",
        params={"fetch_ids": fetch_ids},
    ).to_arrow_table()
    result = normalize(staging, sources)
    del staging
    pre = con.sql("SELECT * FROM pre_quarantine WHERE fetch_id IN (SELECT unnest($fetch_ids))",
                  params={"fetch_ids": fetch_ids}).to_arrow_table()  # fmt: skip
    quarantine = pa.concat_tables([pre, result.quarantine.select(pre.schema.names).cast(pre.schema)])
    con.register("new_versions", result.versions)
    con.register("new_quarantine", quarantine)
    con.register("new_unknown", result.unknown_types)
    con.execute("BEGIN")
    try:
        for table in ("core.meeting_versions", "core.quarantine", "core.unknown_types"):
            con.execute(f"DELETE FROM {table} WHERE fetch_id IN (SELECT unnest(?))", [fetch_ids])
        con.execute(f"INSERT INTO core.meeting_versions BY NAME SELECT {', '.join(FIELD_NAMES)} FROM new_versions")
        con.execute("INSERT INTO core.quarantine BY NAME SELECT * FROM new_quarantine")
        # A batch holds one fetch per source (its current one), so the source names the fetch.
        con.execute(
            """INSERT INTO core.unknown_types (source_id, fetch_id, fellowship, code, count)
               SELECT u.source_id, f.fetch_id, u.fellowship, u.code, u.count FROM new_unknown u
               JOIN (SELECT DISTINCT source_id, fetch_id FROM staging.source_records
                     WHERE fetch_id IN (SELECT unnest($fetch_ids))) f USING (source_id)""",
            {"fetch_ids": fetch_ids},
        )
        counts = con.sql(
            """
            SELECT s.fetch_id, any_value(s.source_id), count(*) AS parsed,
                   (SELECT count(*) FROM core.meeting_versions v WHERE v.fetch_id = s.fetch_id) AS normalized,
                   (SELECT count(*) FROM core.quarantine q WHERE q.fetch_id = s.fetch_id) AS quarantined
            FROM staging.source_records s WHERE s.fetch_id IN (SELECT unnest($fetch_ids))
            GROUP BY s.fetch_id
            """,
            params={"fetch_ids": fetch_ids},
        ).fetchall()
        summary = {}
        now = datetime.now(UTC)
        for fetch_id, source_id, parsed, normalized, quarantined in counts:
            if parsed != normalized + quarantined:
                raise ReconciliationError(
                    f"source {source_id}, fetch {fetch_id}: parsed {parsed} ≠ normalized {normalized} "
                    f"+ quarantined {quarantined}"
                )
            con.execute(
                "INSERT OR REPLACE INTO ops.normalized_fetches VALUES (?, ?, ?, ?, ?, ?)",
                [fetch_id, source_id, parsed, normalized, quarantined, now],
            )
            summary[source_id] = {"parsed": parsed, "normalized": normalized, "quarantined": quarantined}
            log.info(
                "normalized %s: %s parsed = %s normalized + %s quarantined",
                source_id,
                parsed,
                normalized,
                quarantined,
            )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in ("new_versions", "new_quarantine", "new_unknown"):
            con.unregister(name)
    return summary
