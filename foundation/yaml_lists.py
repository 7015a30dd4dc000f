"""YAML files that hold one list of entries (the source registry, the fellowship directory), read and validated
the same way: every problem is collected and names the file, the entry, the key, what was expected and what was
found, so an operator fixes them all in one pass."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (a national registry is thousands of entries), else the pure one."""
Model = TypeVar("Model", bound=BaseModel)


def read_lists(
    files: Iterable[Path], key: str, model: type[Model], id_key: str, noun: str
) -> tuple[list[tuple[Path, Model]], list[str]]:
    """Each file's ``key:`` list validated as ``model`` (a model whose one field is that list), with the problems
    of the files that are not; an entry is named by its ``id_key`` value as ``noun`` ("source 'nyc-aa'")."""
    parsed: list[tuple[Path, Model]] = []
    problems: list[str] = []
    for file in files:
        try:
            doc = yaml.load(file.read_text(encoding="utf-8"), Loader=LOADER) or {}
        except yaml.YAMLError as exc:
            problems.append(f"{file}: not valid YAML: {exc}")
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
            problems.append(f"{file}: expected a mapping with a '{key}:' list")
            continue
        try:
            parsed.append((file, model.model_validate(doc)))
        except ValidationError as exc:
            problems.extend(_describe(file, key, doc[key], exc, id_key, noun))
    return parsed, problems


def _describe(file: Path, key: str, entries: list[Any], error: ValidationError, id_key: str, noun: str) -> list[str]:
    problems = []
    for err in error.errors():
        loc = list(err["loc"])
        if loc[:1] == [key] and len(loc) >= 2 and isinstance(loc[1], int):
            entry = entries[loc[1]] if loc[1] < len(entries) else {}
            name = entry.get(id_key, f"#{loc[1] + 1}") if isinstance(entry, dict) else f"#{loc[1] + 1}"
            field = ".".join(str(x) for x in loc[2:]) or "(entry)"
            found = entry.get(loc[2]) if isinstance(entry, dict) and len(loc) > 2 else None
            what = "unknown key (check spelling)" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(
                f"{file}: {noun} {name!r}, key {field!r}: {what}" + (f"; found {found!r}" if found is not None else "")
            )
        else:
            problems.append(f"{file}: {'.'.join(map(str, loc)) or '(top level)'}: {err['msg']}")
    return problems
