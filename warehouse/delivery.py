"""Delivering a release after ``latest`` moved (a publish or a rollback): rewrite ``releases.json``, then
mirror ``published/`` to the bucket when one is configured (``CLEARINGHOUSE_S3_BUCKET``).

It reads only ``published/``, so it runs after the warehouse lock is released.
"""

from __future__ import annotations

from typing import Any

from foundation.settings import Settings, settings
from warehouse.objectstore import BucketTarget, publish_to_bucket
from warehouse.releases_index import write_releases_index


def deliver(cfg: Settings | None = None) -> dict[str, Any]:
    """Where the release went: the index path, and the bucket, prefix and objects written when mirrored."""
    cfg = cfg or settings()
    delivery: dict[str, Any] = {"index": str(write_releases_index(cfg.published_dir))}
    bucket = BucketTarget.from_settings(cfg)
    if bucket:
        keys = publish_to_bucket(cfg.published_dir, bucket)
        delivery["bucket"] = {"bucket": bucket.bucket, "prefix": bucket.prefix, "objects_written": len(keys)}
    return delivery
