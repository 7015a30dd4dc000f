"""Airflow objects the DAGs rely on (pools), created idempotently by `clearinghouse airflow-pools`."""

from __future__ import annotations

from clearinghouse.assets import POOLS


def ensure_pools() -> list[str]:
    from airflow.models.pool import Pool

    for name, (slots, description) in POOLS.items():
        Pool.create_or_update_pool(name=name, slots=slots, description=description, include_deferred=False)
    return sorted(POOLS)
