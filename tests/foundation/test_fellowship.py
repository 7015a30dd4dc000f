"""The fellowship directory: the real one validates and is complete; mistakes are reported like the registry's
(file, fellowship, key, what was expected, what was found); sources must point into it."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearinghouse.cli import main
from extractors.registry import RegistryError, load_registry
from foundation.fellowship import CATEGORIES, DirectoryError, load_directory
from foundation.model import FELLOWSHIPS
from tests.conftest import REPO

DIRECTORY = REPO / "fellowships"
NAMED_IN_THE_ISSUE = {"SMART", "LIFERING", "WFS", "SOS", "MM", "RD", "RR", "CR", "DBSA", "NAMI", "EA", "RI", "SZA"}


def test_the_directory_validates_and_covers_every_fellowship_code() -> None:
    codes = {f.code for f in load_directory(DIRECTORY)}
    assert codes == set(FELLOWSHIPS) - {"OTHER"}
    assert codes >= NAMED_IN_THE_ISSUE


def test_every_category_has_a_fellowship_and_referral_only_ones_say_why() -> None:
    entries = load_directory(DIRECTORY)
    assert {f.category for f in entries} == set(CATEGORIES)
    cr = next(f for f in entries if f.code == "CR")
    assert cr.access == "referral_only" and cr.finder_kind == "captcha"
    assert {f.code for f in entries if f.listing == "organizations"} == {"DBSA", "NAMI"}


def test_helplines_are_sourced() -> None:
    with_helpline = [f for f in load_directory(DIRECTORY) if f.helpline]
    assert with_helpline and all(f.evidence and "helpline" not in f.unverified for f in with_helpline)


def _write(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "fellowships"
    folder.mkdir(exist_ok=True)
    (folder / "x.yaml").write_text(body)
    return folder


ENTRY = """  - code: AA
    name: Alcoholics Anonymous
    category: 12-step
    helps_with: drinking
    website: https://www.aa.org/
    finder_kind: meeting_guide
    how_it_publishes: feeds
    access: fetchable
    why: public feeds
    terms: open
"""


def test_an_error_names_file_fellowship_key_expected_and_found(tmp_path: Path) -> None:
    folder = _write(tmp_path, "fellowships:\n" + ENTRY.replace("category: 12-step", "category: twelve"))
    with pytest.raises(DirectoryError) as err:
        load_directory(folder)
    message = str(err.value)
    assert str(folder / "x.yaml") in message and "fellowship 'AA'" in message and "'category'" in message
    assert "12-step" in message and "found 'twelve'" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [(("finder_kind: meeting_guide", "finder_kind: scraper"), "'finder_kind'"),
     (("terms: open", "terms: open\n    helpline: '+18005550100'"), "needs `evidence`"),
     (("terms: open", "terms: open\n    helpline: call us"), "E.164"),
     (("terms: open", "terms: open\n    unverified: [colour]"), "expected field names"),
     (("code: AA", "code: XX"), "canonical fellowship code"),
     (("how_it_publishes: feeds", "how_it_publishes: meetings.<domain>"), "plain text"),
     (("terms: open", "terms: open\n    tems: x"), "unknown key")],
)  # fmt: skip
def test_bad_entries_say_what_was_expected(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    folder = _write(tmp_path, "fellowships:\n" + ENTRY.replace(*change))
    with pytest.raises(DirectoryError, match=expected):
        load_directory(folder)


def test_a_missing_fellowship_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match=r"missing: .*NAMI"):
        load_directory(_write(tmp_path, "fellowships:\n" + ENTRY))


def test_a_source_must_point_into_the_directory(tmp_path: Path) -> None:
    registry = tmp_path / "s.yaml"
    registry.write_text(
        "sources:\n  - {id: rd-feed, name: x, fellowship: RD, kind: meeting_guide, url: https://x.org}\n"
    )
    assert load_registry(registry, frozenset({"RD"}))
    with pytest.raises(RegistryError, match="source 'rd-feed', key 'fellowship': expected a code of the fellowship"):
        load_registry(registry, frozenset({"AA"}))


def test_sources_check_fails_when_a_fellowship_has_no_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "fellowships"
    folder.mkdir()
    entries = [f for f in (DIRECTORY).glob("*.yaml") if f.name != "buddhist.yaml"]
    for f in entries:
        (folder / f.name).write_text(f.read_text())
    monkeypatch.setenv("CLEARINGHOUSE_FELLOWSHIPS", str(folder))
    assert main(["sources", "check", "--sources", str(REPO / "sources" / "demo.yaml")]) == 1  # a registry error
    monkeypatch.setenv("CLEARINGHOUSE_FELLOWSHIPS", str(DIRECTORY))
    assert main(["sources", "list", "--sources", str(REPO / "sources" / "demo.yaml")]) == 0
