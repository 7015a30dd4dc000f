"""Source codes → canonical codes: meeting types (``data/type_crosswalk.csv``) and fellowship names.

The crosswalk is one table keyed by (scheme, fellowship, code): ``meeting_guide`` codes (the spec's, with
per-fellowship rows from the 12 Step Meeting List where a fellowship means something else — Al-Anon
``Y`` is Alateen, ``POA`` is Parents of Alcoholics), ``bmlt`` world ids and common key strings, and
``name`` rows for the spelled-out type names of CSV exports ("C = Closed Discussion meeting"). A code
no row knows is returned as unknown, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from foundation.model import FELLOWSHIPS
from transforms.refdata import data_rows
from transforms.text import clean_text

ANY = "*"
SCHEMES = ("meeting_guide", "bmlt", "name")
"""``name`` rows are looked up by every scheme, after its own codes."""
ATTENDANCE_SIGNALS = ("online", "hybrid", "online_access", "location_closed")
"""What a code says about attendance: online only (BMLT VM), hybrid (BMLT HY), has online access
(Meeting Guide ONL: combined with the address like a conference URL), location temporarily closed (TC)."""

_CODE_PREFIX = re.compile(r"^\s*[A-Za-z0-9/-]{1,6}\s*=\s*")


@dataclass(frozen=True)
class TypeRow:
    scheme: str
    fellowship: str
    code: str
    open_closed: str | None
    types: tuple[str, ...]
    accessibility: tuple[str, ...]
    languages: tuple[str, ...]
    attendance: str | None
    label: str


class Classified(NamedTuple):
    open_closed: str | None
    types: list[str]
    accessibility: list[str]
    languages: list[str]
    attendance: frozenset[str]
    unknown: list[str]


@cache
def type_rows() -> tuple[TypeRow, ...]:
    """The crosswalk table as loaded (also rendered into the data dictionary)."""
    return tuple(
        TypeRow(
            r["scheme"],
            r["fellowship"],
            r["code"],
            r["open_closed"] or None,
            tuple(r["types"].split()),
            tuple(r["accessibility"].split()),
            tuple(r["languages"].split()),
            r["attendance"] or None,
            r["label"],
        )
        for r in data_rows("type_crosswalk.csv")
    )


def _name_key(text: str) -> str:
    return " ".join(_CODE_PREFIX.sub("", text).lower().split())


@cache
def _index() -> tuple[dict[tuple[str, str, str], TypeRow], dict[tuple[str, str], TypeRow]]:
    """(by code, by spelled-out name). Names come from ``name`` rows and the labels of Meeting Guide rows."""
    by_code = {(r.scheme, r.fellowship, r.code): r for r in type_rows()}
    by_name: dict[tuple[str, str], TypeRow] = {}
    for r in sorted(type_rows(), key=lambda r: r.scheme != "name"):
        if r.scheme in ("meeting_guide", "name"):
            by_name.setdefault((r.fellowship, _name_key(r.label)), r)
    return by_code, by_name


OWN_VOCABULARY = frozenset({"RD", "RR"})
"""Fellowships whose feeds speak only their own codes (the 12 Step Meeting List's program tables for Recovery
Dharma and Refuge Recovery): a code their rows do not list is not given the Meeting Guide spec's (AA's) meaning
— only the spec's language codes and attendance signals (TC, ONL) still apply — so it stays unknown and is
counted. Recovery Dharma's ``BB`` is such a code: the plugin's table calls it "Book Study", while the feed of
recoverydharma.org is reported (unverified) to use it for "Language – Other"; with two meanings it maps to
nothing. Its reported codes FDIS, FBS, FSPK and ILGB (discussion, book study, speaker, LGBTQ) are not documented
in public material either, so they stay unknown until a row is added with the page that documents them."""


def _shared(row: TypeRow | None) -> TypeRow | None:
    """A spec row that an own-vocabulary fellowship may use: a language or an attendance signal only."""
    if row is None or row.types or row.accessibility or row.open_closed:
        return None
    return row if row.languages or row.attendance else None


def lookup(code: str, scheme: str, fellowship: str) -> TypeRow | None:
    """The row for one source code: own fellowship, then any fellowship, then by spelled-out name.

    For a fellowship of ``OWN_VOCABULARY`` the rows of any fellowship give only languages and attendance."""
    by_code, by_name = _index()
    key = _name_key(code)
    spec = _shared if fellowship in OWN_VOCABULARY else (lambda row: row)
    return (
        by_code.get((scheme, fellowship, code))
        or spec(by_code.get((scheme, ANY, code)))
        or by_name.get((fellowship, key))
        or spec(by_name.get((ANY, key)))
    )


def split_codes(codes: Iterable[str]) -> list[str]:
    """Source codes as separate strings: HTML removed and "A<br>B" split (TSV exports pack several)."""
    parts: list[str] = []
    for code in codes:
        text = clean_text(code, multiline=True)
        parts.extend(p.strip() for p in (text or "").split("\n") if p.strip())
    return parts


def classify(codes: Iterable[str], scheme: str, fellowship: str) -> Classified:
    """Canonical attributes of one record's codes (closed wins over open) and the codes no row knows."""
    found: list[TypeRow] = []
    unknown: list[str] = []
    for code in split_codes(codes):
        row = lookup(code, scheme, fellowship)
        if row is None:
            unknown.append(code)
        else:
            found.append(row)
    open_closed = {r.open_closed for r in found}
    return Classified(
        "closed" if "closed" in open_closed else "open" if "open" in open_closed else None,
        sorted({t for r in found for t in r.types}),
        sorted({a for r in found for a in r.accessibility}),
        sorted({lang for r in found for lang in r.languages}),
        frozenset(r.attendance for r in found if r.attendance),
        list(dict.fromkeys(unknown)),
    )


@cache
def _fellowship_aliases() -> dict[str, str]:
    table = {code.lower(): code for code in FELLOWSHIPS}
    table.update({r["alias"]: r["fellowship"] for r in data_rows("fellowship_aliases.csv")})
    return table


def fellowship_code(value: str | None, default: str) -> str:
    """Canonical fellowship of a record: its own ("Al-Anon" → "AL-ANON") when it names one, else ``default``.

    A name the alias table does not know becomes ``OTHER`` rather than being mistaken for the source's.
    """
    if not value:
        return default
    return _fellowship_aliases().get(" ".join(value.lower().split()), "OTHER")


def scheme_for(family: str) -> str:
    """Crosswalk scheme of a source family: BMLT servers speak world ids and key strings, everyone else
    (feeds, CSV exports, HTML listings) speaks Meeting Guide codes or spelled-out names."""
    return "bmlt" if family == "bmlt" else "meeting_guide"


_LANGUAGE_TAG = re.compile(r"^([a-z]{2})(?:[-_][a-z0-9]+)*$")


def language_codes(values: Iterable[str]) -> list[str]:
    """ISO 639-1 codes from language tags ("en", "es-MX") or names the crosswalk knows ("Spanish")."""
    codes = set()
    for value in values:
        text = value.strip().lower()
        if match := _LANGUAGE_TAG.match(text):
            codes.add(match[1])
        elif (row := _index()[1].get((ANY, _name_key(text)))) and row.languages:
            codes.update(row.languages)
    return sorted(codes)
