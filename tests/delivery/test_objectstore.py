"""Publishing to an S3-compatible bucket (moto's server on 127.0.0.1): same layout, checksums, ``latest`` last."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from foundation.settings import settings
from tests.delivery.conftest import two_releases
from warehouse.delivery import deliver
from warehouse.objectstore import BucketTarget, publish_to_bucket

WRITES = {"PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart", "DeleteObjects"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def target(endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest):
    """A fresh bucket per test; fake credentials, and no profile or instance metadata lookups."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                        "AWS_CONFIG_FILE": str(tmp_path / "none"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bucket = request.node.name.replace("_", "-")[:50].lower()
    target = BucketTarget(bucket=bucket, prefix="regional/aa", endpoint_url=endpoint)
    target.client().create_bucket(Bucket=bucket)
    return target


def recording_client(target: BucketTarget) -> tuple[Any, list[tuple[str, str]]]:
    """A client that logs every write (operation, key) in the order it is sent."""
    client = target.client()
    writes: list[tuple[str, str]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in WRITES:
            writes.append((model.name, params.get("Key", "")))

    client.meta.events.register("before-parameter-build.s3", record)
    return client, writes


def read(client: Any, target: BucketTarget, key: str) -> tuple[bytes, dict[str, Any]]:
    obj = client.get_object(Bucket=target.bucket, Key=target.key(key))
    return obj["Body"].read(), obj


def keys(client: Any, target: BucketTarget, prefix: str) -> set[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=target.key(prefix))
    return {obj["Key"].removeprefix(target.key(prefix)) for page in pages for obj in page.get("Contents", [])}


def repoint(published: Path, release_id: str) -> None:
    (published / "latest").unlink()
    (published / "latest").symlink_to(f"releases/{release_id}")


def test_a_release_is_read_back_with_the_manifest_checksums_and_latest_written_last(
    published: Path, target: BucketTarget
):
    client, writes = recording_client(target)
    written = publish_to_bucket(published, target, client=client)

    release_id = (published / "latest").resolve().name
    manifest = json.loads((published / "latest" / "manifest.json").read_text())
    for prefix in (f"releases/{release_id}/", "latest/"):
        for entry in manifest["files"]:
            body, obj = read(client, target, prefix + entry["path"])
            assert hashlib.sha256(body).hexdigest() == entry["sha256"] == obj["Metadata"]["sha256"], prefix
            assert len(body) == entry["bytes"]
        assert json.loads(read(client, target, prefix + "manifest.json")[0]) == manifest
    local_files = {p.relative_to(published / "latest").as_posix() for p in (published / "latest").rglob("*.*")}
    assert keys(client, target, "latest/") == keys(client, target, f"releases/{release_id}/") == local_files
    index, obj = read(client, target, "releases.json")
    assert index == (published / "releases.json").read_bytes()
    assert obj["ContentType"] == "application/json"

    order = [key.removeprefix(target.key("")) for _, key in writes]
    assert order == [key.removeprefix(target.key("")) for key in written]
    last_release = max(i for i, key in enumerate(order) if key.startswith("releases/"))
    first_latest = min(i for i, key in enumerate(order) if key.startswith("latest/"))
    assert order[last_release] == f"releases/{release_id}/manifest.json", "a release's manifest marks it complete"
    assert last_release < order.index("releases.json") < first_latest
    assert writes[-1] == ("CopyObject", target.key("latest/manifest.json"))


def test_next_release_and_rollback_move_only_the_pointers(published: Path, tmp_path: Path, target: BucketTarget):
    tree, first, second = two_releases(published, tmp_path)
    (tree / "releases" / first / "meeting-guide" / "retired-region.json").write_text("[]")
    building = tree / "releases" / f".tmp-{second}"
    (tree / "releases" / second).rename(building)  # the next release is still being built
    repoint(tree, first)
    publish_to_bucket(tree, target)
    client, writes = recording_client(target)

    building.rename(tree / "releases" / second)
    repoint(tree, second)
    publish_to_bucket(tree, target, client=client)
    assert {key.split("/")[3] for op, key in writes if key.startswith(target.key("releases/"))} == {second}
    assert ("DeleteObjects", "") in writes, "the retired region's latest/ copy is removed"
    assert "meeting-guide/retired-region.json" not in keys(client, target, "latest/")
    assert json.loads(read(client, target, "latest/manifest.json")[0])["release_id"] == second

    writes.clear()
    repoint(tree, first)  # a rollback
    publish_to_bucket(tree, target, client=client)
    assert not [key for _, key in writes if key.startswith(target.key("releases/"))], "nothing re-uploaded"
    assert json.loads(read(client, target, "releases.json")[0])["latest"] == first
    assert json.loads(read(client, target, "latest/manifest.json")[0])["release_id"] == first
    assert read(client, target, "latest/meeting-guide/retired-region.json")[0] == b"[]"


def test_off_by_default_and_configured_from_the_environment():
    assert BucketTarget.from_settings(settings({})) is None
    env = {
        "CLEARINGHOUSE_S3_BUCKET": "b",
        "CLEARINGHOUSE_S3_PREFIX": "/x/y/",
        "CLEARINGHOUSE_S3_ENDPOINT_URL": "http://s3",
    }
    assert BucketTarget.from_settings(settings(env)) == BucketTarget("b", "x/y", "http://s3")


def test_the_publish_stage_delivers_to_the_configured_bucket(
    published: Path, tmp_path: Path, target: BucketTarget, monkeypatch: pytest.MonkeyPatch
):
    tree, _, second = two_releases(published, tmp_path)
    monkeypatch.setenv("CLEARINGHOUSE_HOME", str(tree.parent))
    monkeypatch.setenv("CLEARINGHOUSE_S3_BUCKET", target.bucket)
    monkeypatch.setenv("CLEARINGHOUSE_S3_PREFIX", target.prefix)
    monkeypatch.setenv("CLEARINGHOUSE_S3_ENDPOINT_URL", target.endpoint_url or "")
    delivery = deliver(settings())
    assert delivery["bucket"]["objects_written"] > 0
    assert json.loads((tree / "releases.json").read_text())["latest"] == second
    body, _ = read(target.client(), target, "releases.json")
    assert body == (tree / "releases.json").read_bytes()
    assert os.path.samefile(delivery["index"], tree / "releases.json")
