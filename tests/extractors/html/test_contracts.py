"""Broken-page contract for every HTML family and the recipe family (the City Bureau lesson).

A scraper that quietly returns zero rows for months is the worst failure. Each family's real (or, for the
finder, constructed) page is broken four ways: emptied, cut in half, stripped of every digit, and with the
class names / labels the family hooks on renamed. Every case must raise ``LayoutChanged`` naming the
source, the broken page's URL and the selector that found nothing; none may return records as success.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import pytest
import yaml

from extractors import recipe
from extractors.html import finder, intergroup_custom, intergroup_table, nyintergroup_legacy, tsml_legacy
from extractors.records import LayoutChanged, Snapshot
from tests.extractors.html.pages import MATSU_URL, SEATTLE_URL, finder_parts, read, readme_recipe_yaml, snapshot

SOURCE_ID = "contract-source"


@dataclass(frozen=True)
class Case:
    """One family's saved site, which of its pages to break, and the hooks its selectors rely on."""

    module: ModuleType
    parts: Callable[[], dict[str, tuple[str, bytes]]]
    target: str
    """Part name of the page to break."""
    hooks: tuple[tuple[bytes, bytes], ...]
    """(old, new) renames of the class names / labels the family's selectors use."""
    options: Callable[[], dict] = dict

    def parse(self, breaking: Callable[[bytes], bytes]) -> Snapshot:
        parts = self.parts()
        url, body = parts[self.target]
        parts[self.target] = (url, breaking(body))
        return self.module.parse(snapshot(parts, SOURCE_ID, **self.options()))

    @property
    def url(self) -> str:
        return self.parts()[self.target][0]


def page(family: str, name: str, url: str) -> Callable[[], dict[str, tuple[str, bytes]]]:
    return lambda: {"listing-1": (url, read(family, name))}


def readme_options() -> dict:
    return yaml.safe_load(readme_recipe_yaml())["sources"][0]


CASES = {
    "nyintergroup_legacy": Case(
        nyintergroup_legacy,
        page("nyintergroup_legacy", "m01.html", "http://www.nyintergroup.org/meetinglist/meetinglist.cfm?zone=01"),
        "listing-1",
        ((b"margin-bottom:10px", b"margin-bottom:1em"), (b"GetDirections", b"directions"), (b"detailsBox", b"details")),
    ),
    "tsml_legacy": Case(
        tsml_legacy,
        page("tsml_legacy", "aaminneapolis_meetings_2016.html", "http://aaminneapolis.org/meetings/?d=5&v=list"),
        "listing-1",
        ((b'id="meetings_tbody"', b'id="tsml-meetings"'), (b'class="time"', b'class="meeting-time"')),
    ),
    "intergroup_custom": Case(
        intergroup_custom,
        page(
            "intergroup_custom", "aastpaul_meeting_directory_2016.html", "http://www.aastpaul.org/?topic=8&article=76"
        ),
        "listing-1",
        ((b'class="meeting"', b'class="mtg"'),),
    ),
    "intergroup_table": Case(
        intergroup_table,
        page("intergroup_table", "seattleaa_monday_2012.html", SEATTLE_URL),
        "listing-1",
        ((b">divisions<", b">division<"), (b">notedisp<", b">notes<")),  # a class-less export hooks on labels
    ),
    "finder-listing": Case(finder, finder_parts, "listing-1", ((b"meeting-card", b"meeting-tile"),)),
    "finder-detail": Case(finder, finder_parts, "detail-2", ((b"addeventatc", b"atc-button"),)),
    "recipe": Case(
        recipe,
        page("recipe", "matsu_alaska_meeting_schedule.html", MATSU_URL),
        "listing-1",
        ((b'valign="baseline"', b'valign="top"'),),
        readme_options,
    ),
}

BREAKS: dict[str, Callable[[Case], Callable[[bytes], bytes]]] = {
    "empty": lambda case: lambda body: b"",
    "truncated": lambda case: lambda body: body[: len(body) // 2],
    "digits_removed": lambda case: lambda body: re.sub(rb"\d", b"", body),
    "hooks_renamed": lambda case: lambda body: _rename(body, case.hooks),
}


def _rename(body: bytes, hooks: tuple[tuple[bytes, bytes], ...]) -> bytes:
    for old, new in hooks:
        assert old in body, f"hook {old!r} is not on the page: the contract would test nothing"
        body = body.replace(old, new)
    return body


@pytest.mark.parametrize("family", CASES)
def test_the_unbroken_page_parses(family: str) -> None:
    assert CASES[family].parse(lambda body: body)


@pytest.mark.parametrize("breaking", BREAKS)
@pytest.mark.parametrize("family", CASES)
def test_a_broken_page_fails_loudly_naming_source_url_and_selector(family: str, breaking: str) -> None:
    case = CASES[family]
    with pytest.raises(LayoutChanged) as info:
        records = case.parse(BREAKS[breaking](case))
        pytest.fail(f"returned {len(records)} records as success")
    error = info.value
    assert error.source_id == SOURCE_ID
    assert error.url == case.url
    assert error.selector
    assert all(part in str(error) for part in (repr(SOURCE_ID), case.url, repr(error.selector)))
