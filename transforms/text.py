"""Text hygiene for every free-text value a source gives: one function, applied once per distinct value.

Sources paste HTML into plain-text fields, export spreadsheets through the wrong code page and write
``NULL`` where they mean nothing. ``clean_text`` undoes that without touching legitimate non-ASCII text
(accents, emoji, right-to-left scripts). Published text is plain: executable markup goes with its content
(``<script>``, ``<style>``), markup hidden in entities (``&lt;script&gt;``) goes too, and so does a
``javascript:``/``vbscript:`` scheme, which is never meeting text and which some readers turn into a link.
"""

from __future__ import annotations

import html
import re

NULL_LITERALS = frozenset({"null", "n/a", "none", "nil", "undefined", "(null)", "#n/a"})
"""Whole values that mean "no value" in exports (compared case-insensitively)."""

_BREAK = re.compile(r"<\s*(?:br|/p|p|/div|/li|/tr)\b[^<>]*>", re.IGNORECASE)
_TAG = re.compile(r"<!--.*?-->|</?[a-zA-Z][^<>]*>", re.DOTALL)
_EXECUTABLE = re.compile(r"<\s*(script|style)\b[^>]*>.*?(?:<\s*/\s*\1\s*>|$)", re.IGNORECASE | re.DOTALL)
"""A script or style element with its content (an unclosed one runs to the end, as in a browser)."""
_SCRIPT_SCHEME = re.compile(r"\b(?:java|vb)script:", re.IGNORECASE)
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_C1_CONTROLS = re.compile(r"[\x80-\x9f]")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")

_REPAIRS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("cp1252", "utf-8"),),
    (("latin-1", "utf-8"),),
    (("mac_roman", "utf-8"),),
    # UTF-8 read as cp1252, saved, then read as Mac-Roman (Excel on a Mac): "’" became "‰Ûª".
    (("cp1252", "mac_roman"), ("cp1252", "utf-8")),
    # cp1252 punctuation read as latin-1 leaves C1 control characters ("\x92" for "’").
    (("latin-1", "cp1252"),),
)
"""Chains of (encode as, decode as) steps that undo one known way of mis-decoding text."""


def _transcode(run: str, chain: tuple[tuple[str, str], ...]) -> str | None:
    text = run
    try:
        for encode_as, decode_as in chain:
            text = text.encode(encode_as).decode(decode_as)
    except UnicodeError:
        return None
    return text


def _repair_run(match: re.Match[str]) -> str:
    run = match.group(0)
    for chain in _REPAIRS:
        fixed = _transcode(run, chain)
        if fixed is not None and fixed != run and len(fixed) <= len(run) and not _C1_CONTROLS.search(fixed):
            return fixed
    return run


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 bytes decoded with a single-byte code page ("Caf√©" → "Café"), run by run.

    A run of non-ASCII characters is replaced only if re-encoding it gives valid UTF-8 that is shorter,
    which legitimate text (one accented letter, emoji, Hebrew) practically never does.
    """
    return _NON_ASCII_RUN.sub(_repair_run, text)


def _strip_markup(text: str) -> str:
    if "<" not in text:
        return text
    return _TAG.sub("", _BREAK.sub("\n", _EXECUTABLE.sub("", text)))


def clean_text(value: str | None, *, multiline: bool = False) -> str | None:
    """Plain text from a source value: NULs, HTML and entities removed, encoding repaired, blanks → None.

    ``multiline`` keeps line breaks (notes); otherwise all whitespace collapses to single spaces.
    """
    if value is None:
        return None
    text = _strip_markup(value.replace("\x00", ""))
    if "&" in text:
        text = _strip_markup(html.unescape(text))  # CMSs encode markup twice: "&lt;b&gt;" is a tag too
    text = _SCRIPT_SCHEME.sub("", text)
    if not text.isascii():
        text = repair_mojibake(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if multiline:
        lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
        text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    else:
        text = " ".join(text.split())
    if not text or text.lower() in NULL_LITERALS:
        return None
    return text
