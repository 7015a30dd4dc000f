"""The committed data dictionary is the rendering of the declarations."""

from __future__ import annotations

from pathlib import Path

from transforms.dictionary import render_data_dictionary
from transforms.model import FIELD_NAMES

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"


def test_committed_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render_data_dictionary(), (
        "docs/data-dictionary.md is stale: run `python -m transforms.dictionary > docs/data-dictionary.md`"
    )


def test_doc_covers_every_field_and_the_weekday_encoding() -> None:
    text = render_data_dictionary()
    assert all(f"| `{name}` |" in text for name in FIELD_NAMES)
    assert "1 = Monday" in text and "7 = Sunday" in text
    assert "| `alateen` | audience |" in text
