"""Optional per deployment: mirror the releases to an S3-compatible bucket, with ``latest`` written last.

Off unless ``CLEARINGHOUSE_S3_BUCKET`` is set; ``CLEARINGHOUSE_S3_ENDPOINT_URL`` points at a non-AWS store
(MinIO, R2, Ceph, …) and ``CLEARINGHOUSE_S3_PREFIX`` puts everything under a folder. Credentials and region come
from boto3's standard chain (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, profiles,
instance roles). The bucket gets the layout of ``published/``, so the same URLs work behind a CDN:

- ``releases/<id>/…`` — immutable; ``manifest.json`` is the last object of a release, so its presence marks a
  complete upload (a release already complete in the bucket is not sent again; an interrupted one is redone);
- ``releases.json`` — the index, the same document as ``published/releases.json``;
- ``latest/…`` — server-side copies of the latest release's objects, written after everything else;
  objects the new release no longer has are deleted; ``latest/manifest.json`` is the very last write.

Why copies and not a ``LATEST`` pointer object: apps register a feed URL once
(``/latest/meeting-guide/<region>.json``) and cannot follow a pointer. S3 replaces each object atomically, so one
file is never half old, half new; a reader that needs several files from one release reads the ``latest`` id in
``releases.json`` (or ``latest/manifest.json``) and fetches them from the immutable ``releases/<id>/``.
Every object carries its sha256 (from the manifest) as ``x-amz-meta-sha256``. Releases pruned locally stay in
the bucket, unlisted: expire them with a lifecycle rule on ``releases/`` if the bucket should not keep them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foundation.settings import Settings
from warehouse.http_headers import CONTENT_TYPES, IMMUTABLE, REVALIDATE
from warehouse.publish import verify
from warehouse.releases_index import INDEX_NAME, index_bytes, latest_release_id


class ObjectStoreError(RuntimeError):
    pass


@dataclass(frozen=True)
class BucketTarget:
    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None

    @classmethod
    def from_settings(cls, cfg: Settings) -> BucketTarget | None:
        """The configured bucket, or None when object storage is off (the default)."""
        if not cfg.s3_bucket:
            return None
        return cls(bucket=cfg.s3_bucket, prefix=cfg.s3_prefix, endpoint_url=cfg.s3_endpoint_url)

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def client(self) -> Any:
        import boto3  # imported only by deployments that publish to a bucket

        return boto3.client("s3", endpoint_url=self.endpoint_url)


def release_files(release_dir: Path) -> list[str]:
    """Every file of a release, relative, ``manifest.json`` last (it marks the upload complete)."""
    files = sorted(
        p.relative_to(release_dir).as_posix()
        for p in release_dir.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(release_dir).parts)
    )
    files.remove("manifest.json")
    return [*files, "manifest.json"]


def _checksums(release_dir: Path, files: list[str]) -> dict[str, str]:
    """sha256 per file: the manifest's (checked by ``verify``), computed for the few it does not list."""
    listed = {f["path"]: f["sha256"] for f in verify(release_dir)["files"]}
    return {rel: listed.get(rel) or hashlib.sha256((release_dir / rel).read_bytes()).hexdigest() for rel in files}


def _exists(client: Any, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except client.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def _headers(rel: str, sha256: str, cache_control: str) -> dict[str, Any]:
    return {
        "ContentType": CONTENT_TYPES.get(Path(rel).suffix, "application/octet-stream"),
        "CacheControl": cache_control,
        "Metadata": {"sha256": sha256},
    }


def upload_release(client: Any, target: BucketTarget, release_dir: Path) -> list[str]:
    """Upload one verified release under ``releases/<id>/`` unless it is complete there; return the keys written."""
    base = f"releases/{release_dir.name}"
    if _exists(client, target.bucket, target.key(f"{base}/manifest.json")):
        return []
    files = release_files(release_dir)
    checksums = _checksums(release_dir, files)
    written = []
    for rel in files:
        key = target.key(f"{base}/{rel}")
        client.upload_file(
            str(release_dir / rel), target.bucket, key, ExtraArgs=_headers(rel, checksums[rel], IMMUTABLE)
        )
        written.append(key)
    return written


def _point_latest(client: Any, target: BucketTarget, release_dir: Path) -> list[str]:
    """Copy the release to ``latest/`` inside the bucket, drop what it no longer has, ``manifest.json`` last."""
    files = release_files(release_dir)
    checksums = _checksums(release_dir, files)
    latest_prefix = target.key("latest/")
    written = []

    def copy(rel: str) -> None:
        source = {"Bucket": target.bucket, "Key": target.key(f"releases/{release_dir.name}/{rel}")}
        extra = {**_headers(rel, checksums[rel], REVALIDATE), "MetadataDirective": "REPLACE"}
        client.copy(source, target.bucket, latest_prefix + rel, ExtraArgs=extra)
        written.append(latest_prefix + rel)

    for rel in files[:-1]:
        copy(rel)
    keep = {latest_prefix + rel for rel in files}
    stale = [
        obj["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=latest_prefix)
        for obj in page.get("Contents", [])
        if obj["Key"] not in keep
    ]
    for start in range(0, len(stale), 1000):
        batch = [{"Key": key} for key in stale[start : start + 1000]]
        client.delete_objects(Bucket=target.bucket, Delete={"Objects": batch, "Quiet": True})
    copy("manifest.json")
    return written


def publish_to_bucket(published: Path, target: BucketTarget, client: Any | None = None) -> list[str]:
    """Bring the bucket in line with ``published/``; return the keys written, in order.

    Order: any release missing from the bucket (usually just the new one), ``releases.json``, then ``latest/``.
    After a rollback nothing new is uploaded and only the index and ``latest/`` move.
    """
    latest = latest_release_id(published)
    if latest is None:
        raise ObjectStoreError(f"{published}: nothing published yet")
    client = client or target.client()
    written = []
    for release_dir in sorted((published / "releases").iterdir()):
        if release_dir.is_dir() and not release_dir.name.startswith(".") and (release_dir / "manifest.json").exists():
            written += upload_release(client, target, release_dir)
    index_key = target.key(INDEX_NAME)
    client.put_object(
        Bucket=target.bucket,
        Key=index_key,
        Body=index_bytes(published),
        ContentType=CONTENT_TYPES[".json"],
        CacheControl=REVALIDATE,
    )
    written.append(index_key)
    written += _point_latest(client, target, published / "releases" / latest)
    return written
