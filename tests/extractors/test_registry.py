from pathlib import Path

import pytest

from extractors.registry import RegistryError, load_registry, select
from tests.conftest import REPO


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_demo_registry_is_valid():
    ids = [s.id for s in load_registry(REPO / "sources" / "demo.yaml")]
    assert {"gny-na", "oc-aa", "nyc-aa"} <= set(ids)


def test_error_names_file_source_and_key(tmp_path: Path):
    path = write(tmp_path, "sources:\n  - {id: bad-src, name: x, fellowship: AA, kind: bmltt, url: https://x.org}\n")
    with pytest.raises(RegistryError) as err:
        load_registry(path)
    message = str(err.value)
    assert str(path) in message and "'bad-src'" in message and "'kind'" in message and "bmltt" in message


def test_unknown_key_is_an_error(tmp_path: Path):
    path = write(tmp_path, "sources:\n  - {id: s1, name: x, fellowship: AA, kind: bmlt, url: https://x.org, "
                           "tiemzone: America/New_York}\n")  # fmt: skip
    with pytest.raises(RegistryError, match="'tiemzone': unknown key"):
        load_registry(path)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [("fellowship", "XX", "expected one of"), ("url", "ftp://x", "http"), ("timezone", "Mars/Base", "IANA"),
     ("id", "Bad Id", "slug")],
)  # fmt: skip
def test_bad_values_say_what_was_expected(tmp_path: Path, key: str, value: str, expected: str):
    entry = {"id": "s1", "name": "x", "fellowship": "AA", "kind": "bmlt", "url": "https://x.org", key: value}
    path = write(tmp_path, "sources:\n  - " + repr(entry).replace("'", '"') + "\n")
    with pytest.raises(RegistryError, match=expected):
        load_registry(path)


def test_duplicate_ids_are_rejected(tmp_path: Path):
    entry = "  - {id: s1, name: x, fellowship: AA, kind: bmlt, url: https://x.org}\n"
    with pytest.raises(RegistryError, match="already used"):
        load_registry(write(tmp_path, "sources:\n" + entry + entry))


def test_select_unknown_id_lists_known_ones():
    sources = load_registry(REPO / "sources" / "demo.yaml")
    with pytest.raises(RegistryError, match="unknown source id"):
        select(sources, ["nope"])


def test_recipe_mistakes_are_registry_errors(tmp_path: Path):
    path = write(
        tmp_path,
        "sources:\n  - {id: r1, name: x, fellowship: AA, kind: recipe, url: https://x.org,\n"
        "     recipe: {rows: 'tr', fields: {name: {strat: 'td'}}}}\n",
    )
    with pytest.raises(RegistryError) as err:
        load_registry(path)
    assert "'r1'" in str(err.value) and "recipe" in str(err.value)
