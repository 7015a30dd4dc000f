"""Per-distinct-value mapping gives exactly what a per-row loop would, calling the function once per value."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.vector import distinct_rows, map_distinct

_VALUES = st.lists(st.tuples(st.sampled_from(["a", "b", None]), st.sampled_from([1, 2, None])), max_size=40)


@settings(deadline=None)  # the first example may load reference tables
@given(_VALUES)
def test_map_distinct_equals_row_by_row(rows: list[tuple[str | None, int | None]]) -> None:
    letters, numbers = pa.array([r[0] for r in rows], pa.string()), pa.array([r[1] for r in rows], pa.int64())
    calls: list[tuple[str | None, int | None]] = []

    def fn(letter: str | None, number: int | None) -> tuple[str, int | None]:
        calls.append((letter, number))
        return f"{letter}-{number}", number

    text, number = map_distinct(fn, [letters, numbers], [pa.string(), pa.int64()])
    assert text.to_pylist() == [f"{a}-{b}" for a, b in rows]
    assert number.to_pylist() == [b for _, b in rows]
    assert sorted(calls, key=repr) == sorted(set(rows), key=repr)


def test_distinct_rows_first_occurrences_and_codes() -> None:
    letters = pa.chunked_array([["x", "y"], ["x", None, "y", None, "z"]])
    first, codes = distinct_rows([letters])
    assert first.tolist() == [0, 1, 3, 6]
    assert codes.tolist() == [0, 1, 0, 2, 1, 2, 3]


def test_list_columns_are_values() -> None:
    types = pa.array([["O", "C"], [], ["O", "C"], None, ["C", "O"]], pa.list_(pa.string()))
    (joined,) = map_distinct(lambda codes: (None if codes is None else "+".join(codes),), [types], [pa.string()])
    assert joined.to_pylist() == ["O+C", "", "O+C", None, "C+O"]


def test_empty_input() -> None:
    (out,) = map_distinct(lambda v: (v,), [pa.array([], pa.string())], [pa.string()])
    assert len(out) == 0
