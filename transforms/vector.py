"""Run a Python function once per distinct value (or combination of values), not once per row.

Meeting lists repeat themselves: the same venue, address, time strings and notes recur on every weekday
and in every run. Parsing each distinct input once and spreading the result back with Arrow's ``take``
keeps normalization fast while the parsing rules stay plain, testable Python.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_LIST_SEPARATOR = "\x1f"


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, int]:
    """Dense integer code per row, numbered in order of first appearance (null is a value too)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        column = pc.binary_join(column, _LIST_SEPARATOR)
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), len(encoded.dictionary)


def distinct_rows(columns: Sequence[pa.ChunkedArray | pa.Array]) -> tuple[np.ndarray, np.ndarray]:
    """(row index of the first occurrence of each distinct combination, combination number of each row).

    Hash-based and linear: codes are numbered in order of first appearance, so a row is a first occurrence
    exactly where the running maximum of the codes grows.
    """
    combined, _ = _codes(columns[0])
    for column in columns[1:]:
        codes, size = _codes(column)
        combined, _ = _codes(pa.array(combined * size + codes))
    first = np.flatnonzero(np.diff(np.maximum.accumulate(combined), prepend=-1) > 0)
    return first, combined


@contextmanager
def _no_collection() -> Iterator[None]:
    """Keep the cyclic garbage collector out of a bulk loop that creates no cycles.

    A rule's results (one tuple per distinct input, thousands per column) all survive until the column is
    built, so they look long-lived to the collector and set off full collections that scan the whole heap,
    a third of normalization's time on a large night, to free nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def map_distinct(
    fn: Callable[..., tuple[Any, ...]],
    columns: Sequence[pa.ChunkedArray | pa.Array],
    out_types: Sequence[pa.DataType],
) -> list[pa.Array]:
    """Columns of ``fn(*values)`` for every row, calling ``fn`` once per distinct combination of values.

    ``fn`` returns one value per entry of ``out_types``.
    """
    first, inverse = distinct_rows(columns)
    args = [column.take(first).to_pylist() for column in columns]
    with _no_collection():
        results = [fn(*values) for values in zip(*args, strict=True)]
    indices = pa.array(inverse)
    return [pa.array([r[i] for r in results], type=t).take(indices) for i, t in enumerate(out_types)]
