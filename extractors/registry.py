"""The source registry: ``sources/*.yaml`` files, validated before anything is fetched.

Every error names the file, the source id and the key, says what was expected and what was found. One
entry is a ``foundation.source.Source``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from foundation.fellowship import DirectoryError, load_directory
from foundation.settings import registry_files, settings
from foundation.source import Source


class RegistryError(ValueError):
    """The registry cannot be used as written; the message lists every problem, one per line."""


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (a national registry is thousands of entries), else the pure one."""


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: list[Source]


def _files(path: Path) -> list[Path]:
    if path.exists():
        return registry_files(path)
    raise RegistryError(f"{path}: no such registry file or folder")


def _describe(file: Path, entries: list[Any], error: ValidationError) -> list[str]:
    problems = []
    for err in error.errors():
        loc = list(err["loc"])
        if loc[:1] == ["sources"] and len(loc) >= 2 and isinstance(loc[1], int):
            entry = entries[loc[1]] if loc[1] < len(entries) else {}
            sid = entry.get("id", f"#{loc[1] + 1}") if isinstance(entry, dict) else f"#{loc[1] + 1}"
            key = ".".join(str(x) for x in loc[2:]) or "(entry)"
            found = entry.get(loc[2]) if isinstance(entry, dict) and len(loc) > 2 else None
            what = "unknown key (check spelling)" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(
                f"{file}: source {sid!r}, key {key!r}: {what}" + (f"; found {found!r}" if found is not None else "")
            )
        else:
            problems.append(f"{file}: {'.'.join(map(str, loc)) or '(top level)'}: {err['msg']}")
    return problems


@lru_cache(maxsize=4)
def _directory_codes(path: Path, signature: tuple[tuple[str, int, int], ...]) -> frozenset[str]:
    return frozenset(f.code for f in load_directory(path))


def fellowship_codes(path: Path | None = None) -> frozenset[str]:
    """The codes of the fellowship directory (``CLEARINGHOUSE_FELLOWSHIPS``), validated once while unchanged;
    a broken directory is a registry error (the registry cannot be checked against it)."""
    path = Path(path or settings().fellowships_path)
    try:
        return _directory_codes(path, _signature(path) if path.exists() else ())
    except DirectoryError as exc:
        raise RegistryError(f"the fellowship directory cannot be used:\n{exc}") from None


def load_registry(path: Path | str, fellowships: frozenset[str] | None = None) -> list[Source]:
    """All sources from a YAML file or a folder of them; raises ``RegistryError`` listing every problem.

    Each source's ``fellowship`` must be a code of the fellowship directory (``fellowships``, by default the
    one of ``CLEARINGHOUSE_FELLOWSHIPS``)."""
    known = fellowship_codes() if fellowships is None else fellowships
    problems: list[str] = []
    sources: list[Source] = []
    seen: dict[str, Path] = {}
    for file in _files(Path(path)):
        try:
            doc = yaml.load(file.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
        except yaml.YAMLError as exc:
            problems.append(f"{file}: not valid YAML: {exc}")
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("sources"), list):
            problems.append(f"{file}: expected a mapping with a 'sources:' list")
            continue
        try:
            registry = Registry.model_validate(doc)
        except ValidationError as exc:
            problems.extend(_describe(file, doc["sources"], exc))
            continue
        for source in registry.sources:
            if source.id in seen:
                problems.append(f"{file}: source {source.id!r}: id already used in {seen[source.id]}")
            seen[source.id] = file
            if source.fellowship not in known:
                problems.append(
                    f"{file}: source {source.id!r}, key 'fellowship': expected a code of the fellowship directory "
                    f"(fellowships/*.yaml; add an entry there first); found {source.fellowship!r}"
                )
            sources.append(source)
    if problems:
        raise RegistryError("\n".join(problems))
    return sources


def _signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    return tuple((str(f), (st := f.stat()).st_mtime_ns, st.st_size) for f in registry_files(path))


@lru_cache(maxsize=8)
def _validated(path: Path, signature: tuple[tuple[str, int, int], ...]) -> tuple[Source, ...]:
    return tuple(load_registry(path))


def cached_registry(path: Path | None = None) -> list[Source]:
    """Every registry entry (of ``CLEARINGHOUSE_SOURCES`` by default), validated once per process while the
    registry files are unchanged.

    Each stage reads the registry, and validating a source takes milliseconds (time zones, recipes): at
    thousands of sources, validating it again in every stage cost each stage seconds.
    """
    path = Path(path or settings().sources_path)
    if not path.exists():
        return load_registry(path)  # raises the registry's own error
    return list(_validated(path, _signature(path)))


def select(sources: Iterable[Source], only: Iterable[str] | None = None) -> list[Source]:
    """Enabled sources, or exactly the ``only`` ids (which must exist)."""
    sources = list(sources)
    if not only:
        return [s for s in sources if s.enabled]
    by_id = {s.id: s for s in sources}
    missing = [i for i in only if i not in by_id]
    if missing:
        raise RegistryError(f"unknown source id(s): {', '.join(missing)}; known: {', '.join(sorted(by_id))}")
    return [by_id[i] for i in only]
