"""The ``recipe`` family: the README's worked example as written, on the real Mat-Su page; more recipe
features on the real Seattle page and on a small inline page; registry mistakes named by key."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from extractors import recipe
from extractors.records import SnapshotPart, SourceRecord
from extractors.registry import load_registry
from foundation.source import Source
from tests.extractors.html.pages import MATSU_URL, SEATTLE_URL, one_page, read, readme_recipe_yaml, snapshot


@pytest.fixture(scope="module")
def readme_source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    """The README's entry, copied into a new registry file as a reader would."""
    path = tmp_path_factory.mktemp("readme") / "my-sources.yaml"
    path.write_text(readme_recipe_yaml())
    [source] = load_registry(path)
    return source


@pytest.fixture(scope="module")
def matsu(readme_source: Source) -> list[SourceRecord]:
    """The README entry fetched (from the saved page) and parsed the way the pipeline does it."""
    parts = recipe.fetch(
        readme_source, lambda name, url: SnapshotPart(name, url, read("recipe", "matsu_alaska_meeting_schedule.html"))
    )
    return recipe.parse(
        snapshot({p.name: (p.url, p.body) for p in parts}, readme_source.id, **readme_source.model_dump())
    )


def test_readme_example_is_a_valid_registry_entry(readme_source: Source) -> None:
    assert (readme_source.id, readme_source.kind, readme_source.url) == ("matsu-aa", "recipe", MATSU_URL)


def test_readme_example_reads_every_meeting_row(matsu: list[SourceRecord]) -> None:
    assert len(matsu) == 55  # header, note and legend rows are not meetings
    assert len({r.source_key for r in matsu}) == 55


def test_readme_example_first_meeting(matsu: list[SourceRecord]) -> None:
    first = matsu[0]
    assert (first.name, first.weekday, first.weekday_raw, first.start_time) == (
        "Big Lake Awakenings",
        7,
        "Sunday",
        "9:30a",
    )
    assert (first.address, first.city) == ("2914 S Makati Cir", "Wasilla")


def test_readme_example_types_from_the_pattern(matsu: list[SourceRecord]) -> None:
    assert matsu[0].types == ["O", "HCP"]


def test_readme_example_midnight_meeting(matsu: list[SourceRecord]) -> None:
    last = matsu[-1]
    assert (last.name, last.weekday, last.start_time) == ("High Noon Group (Midnight)", 6, "12:00a")


def test_readme_example_time_zone_is_the_registry_s(readme_source: Source, matsu: list[SourceRecord]) -> None:
    assert {r.timezone for r in matsu} == {None}
    assert readme_source.timezone == "America/Anchorage"


def test_weekday_from_the_page_heading_with_a_pattern() -> None:
    """The Seattle page, one weekday per page, read by a recipe instead of its family."""
    seattle = {
        "rows": "tr:has(> td)",
        "fields": {
            "weekday": {"selector": "center", "scope": "page", "pattern": r"^(\w+)"},
            "start_time": "td:nth-of-type(2)",
            "name": "td:nth-of-type(4)",
            "formatted_address": "td:nth-of-type(5)",
            "types": {"selector": "td:nth-of-type(3)"},
        },
        "key_fields": ["weekday", "start_time", "name", "formatted_address"],
    }
    records = recipe.parse(
        one_page(SEATTLE_URL, read("intergroup_table", "seattleaa_monday_2012.html"), recipe=seattle)
    )
    assert len(records) == 201
    assert {(r.weekday, r.weekday_raw) for r in records} == {(1, "MONDAY")}
    assert (records[0].name, records[0].start_time, records[0].types) == ("ON AWAKENING @ LAC", "6:00 AM", ["C"])


LIST = """<html><body><ul>
<li data-id="17"><b>Mon, Wed</b> <i>19.30</i> <a href="/m/17">Evening Group</a></li>
<li data-id="18"><b>Sat</b> <i>10.00</i> <a href="/m/18">Morning Group</a></li>
</ul><a class="next" href="/list?page=2">more</a></body></html>"""
LIST_RECIPE = {
    "rows": "li",
    "fields": {"key": {"selector": ":scope", "attr": "data-id"}, "weekday": "b", "start_time": "i", "name": "a",
               "source_url": {"selector": "a", "attr": "href"}},
    "time_format": "%H.%M",
    "next_page": "a.next",
}  # fmt: skip


def test_site_ids_attributes_time_format_and_several_days_in_one_cell() -> None:
    records = recipe.parse(one_page("https://example.org/list", LIST.encode(), recipe=LIST_RECIPE))
    assert [(r.source_key, r.weekday, r.start_time) for r in records] == [
        ("17#1", 1, "19:30"),
        ("17#3", 3, "19:30"),
        ("18", 6, "10:00"),
    ]
    assert records[0].source_url == "https://example.org/m/17"


def test_next_page_link_is_followed() -> None:
    source = Source(
        id="list", name="list", fellowship="AA", kind="recipe", url="https://example.org/list", recipe=LIST_RECIPE
    )
    pages = {
        "https://example.org/list": LIST.encode(),
        "https://example.org/list?page=2": LIST.replace('<a class="next" href="/list?page=2">more</a>', "").encode(),
    }
    parts = recipe.fetch(source, lambda name, url: SnapshotPart(name, url, pages[url]))
    assert [(p.name, p.url) for p in parts] == [
        ("listing-1", "https://example.org/list"),
        ("listing-2", "https://example.org/list?page=2"),
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"rows": "tr", "fields": {"name": "a", "weekday": "b"}},
         "recipe key 'recipe.fields.start_time': Field required"),
        ({"rows": "tr", "fields": {"name": "a", "weekday": "b", "start_time": "c", "strat": "d"}},
         "recipe key 'recipe.fields.strat': unknown key"),
        ({"rows": "tr[", "fields": {"name": "a", "weekday": "b", "start_time": "c"}},
         "recipe key 'recipe.rows': not a valid CSS selector: Malformed attribute selector"),
        ({"rows": "tr", "fields": {"name": {"selector": "a", "pattern": "(("}, "weekday": "b", "start_time": "c"}},
         "recipe key 'recipe.fields.name.pattern': not a valid regular expression"),
        ({"rows": "tr", "fields": {"name": "a", "weekday": "b", "start_time": "c"}, "day_format": "names"},
         "recipe key 'recipe.day_format': Input should be 'name', 'sunday0', 'sunday1' or 'iso'"),
    ],
)  # fmt: skip
def test_a_bad_recipe_names_the_key_before_anything_is_fetched(raw: dict, message: str) -> None:
    """The registry rejects it, so `sources check` reports it and no fetch ever starts."""
    with pytest.raises(ValidationError, match=re.escape(message)):
        Source(id="bad", name="bad", fellowship="AA", kind="recipe", url="https://example.org/", recipe=raw)


def test_a_recipe_source_without_a_recipe_is_an_error() -> None:
    with pytest.raises(recipe.RecipeError, match="needs a 'recipe:' mapping"):
        recipe.parse(one_page(MATSU_URL, b"<html></html>"))
