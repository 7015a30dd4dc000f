"""Quoting values and names into SQL text, for the statements DuckDB cannot take parameters in.

``COPY … TO 'path'``, ``MAP {…}`` literals built from reference tables and ``IN (…)`` lists inside SQL
templates need literals written into the text. Every such literal goes through here, so quotes in a value
(a path, a source id, a label) can never end the string early.
"""

from __future__ import annotations

from collections.abc import Iterable


def sql_text(value: str) -> str:
    """A SQL string literal: ``O'Brien`` → ``'O''Brien'``."""
    return "'" + value.replace("'", "''") + "'"


def sql_text_list(values: Iterable[str]) -> str:
    """String literals separated by commas, or ``NULL`` when there are none (so ``IN (…)`` matches nothing)."""
    return ", ".join(sql_text(v) for v in values) or "NULL"


def sql_name(identifier: str) -> str:
    """A quoted SQL identifier (a table or column name as written): ``a"b`` → ``"a""b"``."""
    return '"' + identifier.replace('"', '""') + '"'
