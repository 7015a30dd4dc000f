"""Settings: every ``CLEARINGHOUSE_*`` variable is declared once, with its default and doc, and read only here."""

from __future__ import annotations

import re
import subprocess
from dataclasses import fields
from pathlib import Path

import pytest

from foundation.settings import (
    DEFAULT_SOURCES,
    DEPLOYMENT_VARIABLES,
    FEED_KEY_PREFIX,
    Settings,
    feed_key,
    settings,
    variable,
)
from tests.conftest import REPO

DECLARED = {variable(f.name) for f in fields(Settings)} | set(DEPLOYMENT_VARIABLES)


def tracked_text() -> dict[str, str]:
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    texts = {}
    for name in names:
        path = REPO / name
        if path.suffix in (".py", ".md", ".yaml", ".yml", ".toml", ".sh", ".example", "") and path.is_file():
            texts[name] = path.read_text(encoding="utf-8", errors="replace")
    return texts


def test_every_variable_the_repository_names_is_declared() -> None:
    used: dict[str, set[str]] = {}
    for name, text in tracked_text().items():
        for found in re.findall(r"\bCLEARINGHOUSE_[A-Z0-9_]*[A-Z0-9]", text):
            if not (found + "_").startswith(FEED_KEY_PREFIX):
                used.setdefault(found, set()).add(name)
    undeclared = {v: sorted(files) for v, files in used.items() if v not in DECLARED}
    assert not undeclared, f"declare these in foundation/settings.py: {undeclared}"


def test_only_the_settings_module_reads_the_environment_for_them() -> None:
    layers = ("foundation", "extractors", "transforms", "warehouse", "clearinghouse", "dags")
    reads = re.compile(r"os\.environ(\.get)?\s*[\[(]\s*f?[\"']CLEARINGHOUSE_|getenv\(")
    readers = [
        name
        for name, text in tracked_text().items()
        if name.endswith(".py") and name.split("/")[0] in layers and name != "foundation/settings.py"
        and reads.search(text)
    ]  # fmt: skip
    assert readers == []


def test_each_setting_has_a_doc_and_the_defaults_need_no_environment() -> None:
    assert all(f.metadata["doc"].strip() for f in fields(Settings))
    assert settings({}) == Settings()
    assert settings({}).sources_path == DEFAULT_SOURCES
    assert variable("sources_path") == "CLEARINGHOUSE_SOURCES"
    assert variable("allow_private_addresses") == "CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES"


def test_values_are_typed_and_an_empty_value_is_the_default(tmp_path: Path) -> None:
    cfg = settings({"CLEARINGHOUSE_HOME": str(tmp_path), "CLEARINGHOUSE_KEEP_RAW_DAYS": "30",
                    "CLEARINGHOUSE_MIN_DELAY_S": "0.5", "CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES": "yes",
                    "CLEARINGHOUSE_SCHEDULE": " manual ", "CLEARINGHOUSE_PUBLIC_URL": "https://data.example.org/",
                    "CLEARINGHOUSE_S3_PREFIX": "/aa/ny/", "CLEARINGHOUSE_ALERT_EMAIL": ""})  # fmt: skip
    assert (cfg.home, cfg.keep_raw_days, cfg.min_delay_s, cfg.allow_private_addresses) == (tmp_path, 30, 0.5, True)
    assert (cfg.schedule, cfg.public_url, cfg.s3_prefix, cfg.alert_email) == (
        "manual", "https://data.example.org", "aa/ny", None)  # fmt: skip


def test_a_bad_value_names_its_variable() -> None:
    with pytest.raises(ValueError, match="CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES='maybe': expected true or false"):
        settings({"CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES": "maybe"})
    with pytest.raises(ValueError, match="CLEARINGHOUSE_KEEP_RELEASES='ten'"):
        settings({"CLEARINGHOUSE_KEEP_RELEASES": "ten"})


def test_feed_keys_come_only_from_feed_key_variables() -> None:
    assert feed_key("CLEARINGHOUSE_FEED_KEY_NYC", {"CLEARINGHOUSE_FEED_KEY_NYC": "k"}) == "k"
    with pytest.raises(ValueError, match="FEED_KEY_"):
        feed_key("AWS_SECRET_ACCESS_KEY", {"AWS_SECRET_ACCESS_KEY": "s"})


def test_the_operators_guide_lists_every_variable() -> None:
    guide = (REPO / "docs" / "operators.md").read_text()
    assert sorted(v for v in DECLARED if f"`{v}`" not in guide) == []
