"""The schema of a ``kind: recipe`` registry entry: CSS selectors and formats, checked with the registry.

It is configuration, so it sits beside the source model: the registry validates a recipe before anything is
fetched (``clearinghouse sources check`` reports its mistakes, each naming the key), and the ``recipe``
family (``extractors/recipe.py``) reads pages with the validated ``Recipe``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import soupsieve
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator

DayFormat = Literal["name", "sunday0", "sunday1", "iso"]
"""How a recipe's page writes weekdays: names (Monday, Mon, lunes…), 0 = Sunday, 1 = Sunday, or ISO 1–7."""


def _css(value: str) -> str:
    try:
        soupsieve.compile(value)
    except soupsieve.SelectorSyntaxError as exc:
        raise ValueError(f"not a valid CSS selector: {str(exc).splitlines()[0]}") from None
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


Selector = Annotated[str, AfterValidator(_css)]
Pattern = Annotated[str, AfterValidator(_regex)]


class FieldSpec(BaseModel):
    """Where one field is on the page; a bare string is shorthand for ``{selector: ...}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    selector: Selector
    attr: str | None = None
    pattern: Pattern | None = None
    scope: Literal["row", "page"] = "row"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"selector": value} if isinstance(value, str) else value


class Fields(BaseModel):
    """Record fields a recipe can fill; ``name``, ``weekday`` and ``start_time`` are required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: FieldSpec
    weekday: FieldSpec
    start_time: FieldSpec
    key: FieldSpec | None = None
    """The site's own id for the record, when it shows one."""
    end_time: FieldSpec | None = None
    duration: FieldSpec | None = None
    group_name: FieldSpec | None = None
    venue_name: FieldSpec | None = None
    address: FieldSpec | None = None
    city: FieldSpec | None = None
    region_code: FieldSpec | None = None
    postal_code: FieldSpec | None = None
    formatted_address: FieldSpec | None = None
    timezone: FieldSpec | None = None
    conference_url: FieldSpec | None = None
    conference_phone: FieldSpec | None = None
    notes: FieldSpec | None = None
    location_notes: FieldSpec | None = None
    source_url: FieldSpec | None = None
    types: FieldSpec | None = None
    """Every ``pattern`` match (or each comma-separated part of the text) becomes one type code."""


KeyField = Literal[
    "name", "weekday", "start_time", "end_time", "group_name", "venue_name", "address", "city", "postal_code",
    "formatted_address", "conference_url",
]  # fmt: skip


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rows: Selector
    fields: Fields
    day_format: DayFormat = "name"
    time_format: str | None = None
    next_page: Selector | None = None
    key_fields: list[KeyField] = ["weekday", "start_time", "name", "address"]


def validate_recipe(raw: object) -> Recipe:
    """The validated recipe of a registry entry, or a ``ValueError`` naming every bad key."""
    if not isinstance(raw, Mapping):
        raise ValueError("kind 'recipe' needs a 'recipe:' mapping (rows, fields, …); see the README")
    try:
        return Recipe.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(x) for x in ("recipe", *err["loc"]))
            what = "unknown key (check spelling)" if err["type"] == "extra_forbidden" else err["msg"]
            what = what.removeprefix("Value error, ")
            problems.append(f"recipe key {key!r}: {what}")
        raise ValueError("; ".join(problems)) from None
