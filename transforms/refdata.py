"""Reading the reference tables shipped in ``transforms/data/`` (CSV: reviewable, diffable data)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from importlib import resources


def data_rows(name: str) -> Iterator[dict[str, str]]:
    """Rows of ``transforms/data/<name>`` as dicts keyed by the header."""
    with resources.files("transforms").joinpath("data", name).open(encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)
