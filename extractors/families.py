"""Source family lookup: ``kind`` in the registry → the module with ``fetch`` and ``parse``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Protocol

from extractors.records import Snapshot, SnapshotPart, SourceRecord
from foundation.source import HTML_FAMILY_PREFIX, Source

Getter = Callable[[str, str], SnapshotPart]
"""``get(part_name, url)``: fetch politely (robots, delay, conditional GET) and archive; injected into families."""


class Family(Protocol):
    def fetch(self, source: Source, get: Getter) -> list[SnapshotPart]: ...

    def parse(self, snapshot: Snapshot) -> list[SourceRecord]: ...


def family_module(source: Source) -> Family:
    html = source.kind.startswith(HTML_FAMILY_PREFIX)
    name = f"extractors.html.{source.family}" if html else f"extractors.{source.kind}"
    try:
        module: ModuleType = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise ValueError(f"source {source.id!r}: kind {source.kind!r} has no family module {name}") from exc
    return module  # type: ignore[return-value]
