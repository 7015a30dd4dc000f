"""``auth:`` names the environment variable of a feed key; it may name nothing else.

Before, ``auth: AWS_SECRET_ACCESS_KEY`` sent the process's cloud credentials to the source's URL as ``?key=``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from extractors.registry import RegistryError, load_registry
from tests.faults.harness import encode, meeting_guide_feed, mg_source, write_registry
from tests.faults.server import FaultSite, Reply

AWS_SECRET = "wJalrXUtnFEMI-not-really-a-secret"


def test_auth_must_name_a_feed_key_variable(
    home: Path, tmp_path: Path, sites: Callable[[], FaultSite], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:  # fmt: skip
    from clearinghouse.cli import main

    site = sites()
    url = site.route("/meetings.json", Reply(body=encode(meeting_guide_feed("aws", 3))))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    registry = write_registry(tmp_path / "sources.yaml", [mg_source("aws-auth", url, auth="AWS_SECRET_ACCESS_KEY")])

    assert main(["run", "--sources", str(registry)]) == 1  # a registry that cannot be used is an error
    assert main(["sources", "check", "--sources", str(registry)]) == 1
    error = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
    assert f"{registry}: source 'aws-auth', key 'auth'" in error
    assert "starts with CLEARINGHOUSE_FEED_KEY_" in error
    assert "CLEARINGHOUSE_FEED_KEY_NYC_INTERGROUP" in error  # the fix, by example
    assert AWS_SECRET not in error
    assert site.hits == []
    assert not home.exists() or AWS_SECRET not in "".join(
        p.read_text(errors="replace") for p in home.rglob("*") if p.is_file() and p.suffix == ".json"
    )


@pytest.mark.parametrize(
    "auth", ["AWS_SECRET_ACCESS_KEY", "HOME", "clearinghouse_feed_key_x", "CLEARINGHOUSE_FEED_KEY_", "KEY"]
)
def test_other_variable_names_are_registry_errors(tmp_path: Path, auth: str) -> None:
    registry = write_registry(tmp_path / "s.yaml", [mg_source("s1", "https://feeds.example.org/m.json", auth=auth)])
    with pytest.raises(RegistryError, match=r"source 's1', key 'auth'.*CLEARINGHOUSE_FEED_KEY_"):
        load_registry(registry)


def test_a_feed_key_variable_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARINGHOUSE_FEED_KEY_SUSSEX", "k")
    entry = mg_source("s1", "https://feeds.example.org/m.json", auth="CLEARINGHOUSE_FEED_KEY_SUSSEX")
    (source,) = load_registry(write_registry(tmp_path / "s.yaml", [entry]))
    assert source.secret == "k"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("allowed_hosts", ["https://cdn.example.org/x"], "not a host name"),
        ("allowed_hosts", ["*.example.org"], "without scheme, path or wildcard"),
        ("allowed_hosts", ["cdn.example.org:70000"], "out of range"),
        ("url", "https://user:pass@feeds.example.org/m.json", "no user:password@"),
        ("url", "javascript:alert(1)", "http(s) URL"),
    ],
)
def test_scope_keys_are_checked(tmp_path: Path, key: str, value: object, message: str) -> None:
    entry = mg_source("s1", "https://feeds.example.org/m.json") | {key: value}
    with pytest.raises(RegistryError, match=rf"source 's1', key '{key}'.*{re.escape(message)}"):
        load_registry(write_registry(tmp_path / "s.yaml", [entry]))
