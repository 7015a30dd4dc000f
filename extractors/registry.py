"""The source registry: ``sources/*.yaml`` files, validated before anything is fetched.

Every error names the file, the source id and the key, says what was expected and what was found. One
entry is a ``foundation.source.Source``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from foundation.fellowship import DirectoryError, load_directory
from foundation.settings import registry_files, settings
from foundation.source import Source
from foundation.yaml_lists import read_lists


class RegistryError(ValueError):
    """The registry cannot be used as written; the message lists every problem, one per line."""


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: list[Source]


def _files(path: Path) -> list[Path]:
    if path.exists():
        return registry_files(path)
    raise RegistryError(f"{path}: no such registry file or folder")


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
    parsed, problems = read_lists(_files(Path(path)), "sources", Registry, "id", "source")
    sources: list[Source] = []
    seen: dict[str, Path] = {}
    for file, registry in parsed:
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
