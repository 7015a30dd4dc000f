"""Text hygiene on values real sources give."""

from __future__ import annotations

import pytest

from transforms.text import clean_text, repair_mojibake


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Caf√©", "Café"),  # UTF-8 read as Mac-Roman
        ("CafÃ©", "Café"),  # UTF-8 read as cp1252
        ("Q & A‰Ûªs", "Q & A’s"),  # New York export: UTF-8 → cp1252 → Mac-Roman
        ("Open ‰ÛÒ Last Wednesday", "Open – Last Wednesday"),
        ("Teacher\x92s Lounge", "Teacher’s Lounge"),  # cp1252 read as latin-1
        ("Müller Straße", "Müller Straße"),
        ("Crème brûlée", "Crème brûlée"),
        ("שלום 😀 café", "שלום 😀 café"),  # RTL, emoji and one accent are legitimate
        ("żółć", "żółć"),
    ],
)
def test_repair_mojibake(raw: str, clean: str) -> None:
    assert repair_mojibake(raw) == clean


def test_html_breaks_become_lines_in_notes() -> None:
    raw = "Cross street: (@ Jordan Avenue)<br>Notes: Sun=Q &amp; A<br/>Sat=B 1st &amp; 3rd Sat.<br>"
    assert clean_text(raw, multiline=True) == "Cross street: (@ Jordan Avenue)\nNotes: Sun=Q & A\nSat=B 1st & 3rd Sat."
    assert clean_text(raw) == "Cross street: (@ Jordan Avenue) Notes: Sun=Q & A Sat=B 1st & 3rd Sat."


def test_tags_removed_text_kept() -> None:
    assert (
        clean_text('<p>Meet in the <b>back</b> room</p><!-- x --><a href="/x">map</a>') == "Meet in the back room map"
    )
    assert clean_text("3 < 4 and <3") == "3 < 4 and <3"


def test_executable_markup_goes_with_its_content() -> None:
    assert clean_text("<script>alert('x')</script>Serenity <STYLE>b {}</STYLE>Group") == "Serenity Group"
    assert clean_text("Hope<script src=x.js>never closed") == "Hope"


def test_markup_hidden_in_entities_is_removed() -> None:
    assert clean_text("&lt;b&gt;Hope&lt;/b&gt; &amp; Serenity") == "Hope & Serenity"
    assert clean_text("&lt;script&gt;alert(1)&lt;/script&gt;Hope") == "Hope"
    assert clean_text("3 &lt; 4 and &lt;3") == "3 < 4 and <3"


def test_script_schemes_are_removed_from_text() -> None:
    assert clean_text("JavaScript:alert(1) Hope, vbscript:x") == "alert(1) Hope, x"


@pytest.mark.parametrize("raw", ["NULL", "null", " N/A ", "none", "", "   ", "<br>", "\x00", None])
def test_empty_and_null_literals(raw: str | None) -> None:
    assert clean_text(raw) is None


def test_whitespace_and_nul_bytes() -> None:
    assert clean_text("  Step\x00  Study\t\tGroup \r\n") == "Step Study Group"
    assert clean_text("line one  \r\n\r\n\r\n\r\nline   two", multiline=True) == "line one\n\nline two"
