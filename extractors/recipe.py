"""Config-only HTML family (``kind: recipe``): CSS selectors in the registry entry, no Python.

For simple table- or list-based sites: ``rows`` selects one element per meeting, ``fields`` maps record
fields to a selector inside the row (``:scope`` is the row itself; its text, or an ``attr``; an optional
``pattern`` keeps the regex's first group; ``scope: page`` reads it once from the whole page, e.g. a
weekday heading). ``day_format`` says
how weekdays are written, ``time_format`` (optional, ``strptime``) converts times nobody else reads, and
``next_page`` follows a pagination link. The site's id (``fields.key``) keys a record; without one, a
hash of ``key_fields``. The recipe is validated before anything is fetched, with errors naming the key
(its schema: ``foundation/recipe_schema.py``).
The README's "Scrape a site without code" section is the worked example (tested as written).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from bs4 import Tag

from extractors.families import Getter
from extractors.html import base
from extractors.html.base import Listing, Page, text
from extractors.records import (
    Snapshot,
    SnapshotPart,
    SourceError,
    SourceRecord,
    iso_weekday_from_name,
    iso_weekday_from_sunday0,
    iso_weekday_from_sunday1,
)
from foundation.ids import hashed_source_key
from foundation.recipe_schema import DayFormat, FieldSpec, Recipe, validate_recipe
from foundation.source import Source

EXPECT = base.EXPECT
DAY_FORMATS: dict[DayFormat, Callable[[object], int | None]] = {
    "name": iso_weekday_from_name,
    "sunday0": iso_weekday_from_sunday0,
    "sunday1": iso_weekday_from_sunday1,
    "iso": lambda v: int(str(v)) if str(v).strip() in {"1", "2", "3", "4", "5", "6", "7"} else None,
}
ROW_ITSELF = ":scope"
"""The selector that reads the row element itself (e.g. its ``data-id`` attribute)."""
_DAY_LIST = re.compile(r"\s*(?:,|/|&|\band\b)\s*", re.IGNORECASE)


class RecipeError(SourceError):
    """The registry's ``recipe`` cannot be used as written; the message names the key."""

    reason_code = "bad_recipe"


def load_recipe(source_id: str, raw: object) -> Recipe:
    """The validated recipe of a registry entry, or a ``RecipeError`` naming every bad key."""
    try:
        return validate_recipe(raw)
    except ValueError as exc:
        raise RecipeError(source_id, str(exc)) from None


def _links(recipe: Recipe, page: Page) -> Listing:
    following = page.soup.select_one(recipe.next_page) if recipe.next_page else None
    href = following.get("href") if following else None
    return Listing(next_url=page.absolute(str(href)) if href else None)


def fetch(source: Source, get: Getter) -> list[SnapshotPart]:
    recipe = load_recipe(source.id, source.recipe)
    return base.crawl(source, get, partial(_links, recipe) if recipe.next_page else None)


def _read(page: Page, row: Tag, spec: FieldSpec) -> list[str]:
    """Every value ``spec`` reads: the text or attribute, then each match of the pattern (its first group)."""
    scope = page.soup if spec.scope == "page" else row
    found = row if spec.selector == ROW_ITSELF else scope.select_one(spec.selector)
    if found is None:
        return []
    value = found.get(spec.attr) if spec.attr else text(found)
    if isinstance(value, list):  # multi-valued attributes such as class
        value = " ".join(value)
    if not value:
        return []
    if spec.attr in ("href", "src"):
        value = page.absolute(value)
    if spec.pattern is None:
        return [value]
    return [m.group(1) if m.groups() else m.group(0) for m in re.finditer(spec.pattern, value)]


def _time(value: str | None, time_format: str | None) -> str | None:
    if value is None or time_format is None:
        return value
    try:
        return datetime.strptime(value.strip(), time_format).strftime("%H:%M")
    except ValueError:
        return value  # normalization reads it, or quarantines the record showing the value


def _row(recipe: Recipe, page: Page, row: Tag) -> dict[str, Any]:
    """Field → value of one row; ``types`` is a list, every other field its first value (or None)."""
    values: dict[str, Any] = {"source_url": page.url}
    for name, spec in recipe.fields:
        if spec is None:
            continue
        found = _read(page, row, spec)
        if name == "types":
            split = spec.pattern is None  # without a pattern, the text is a comma-separated list
            values[name] = [t.strip() for v in found for t in v.split(",") if t.strip()] if split else found
        else:
            values[name] = found[0] if found else None
    for name in ("start_time", "end_time"):
        if name in values:
            values[name] = _time(values[name], recipe.time_format)
    return values


def _records(recipe: Recipe, page: Page) -> list[SourceRecord]:
    to_iso = DAY_FORMATS[recipe.day_format]
    records = []
    for row in page.items(recipe.rows):
        values = _row(recipe, page, row)
        key, listed = values.pop("key", None), values.pop("weekday")
        days = _DAY_LIST.split(listed) if listed and recipe.day_format == "name" else [listed]
        weekdays = [to_iso(day) if day else None for day in days]
        stable = {**values, "weekday": listed}
        base_key = key or hashed_source_key(*(stable.get(k) for k in recipe.key_fields))
        keys = base.slot_keys(base_key, [(weekday, values["start_time"]) for weekday in weekdays])
        for source_key, day, weekday in zip(keys, days, weekdays, strict=True):
            records.append(
                SourceRecord(
                    source_key=source_key,
                    raw={**values, "weekday": day, "key": key},
                    weekday=weekday,
                    weekday_raw=day,
                    **values,
                )
            )

    def where(spec: FieldSpec) -> str:
        return spec.selector if spec.scope == "page" else f"{recipe.rows} {spec.selector}"

    checks = [
        ("name", "meeting names", bool),
        ("weekday_raw", f"weekdays ({recipe.day_format})", lambda v: to_iso(v) is not None),
        ("start_time", "clock times", base.looks_like_time),
    ]
    for attr, what, valid in checks:
        spec = getattr(recipe.fields, attr.removesuffix("_raw"))
        page.check_values([getattr(r, attr) for r in records], valid, where(spec), what)
    return records


def parse(snapshot: Snapshot) -> list[SourceRecord]:
    recipe = load_recipe(snapshot.source_id, snapshot.options.get("recipe"))
    return base.parse_listings(snapshot, partial(_records, recipe))
