"""The one privacy rule for free text: personal e-mail addresses, phone numbers and full names are redacted.

Fellowship traditions protect members' anonymity; notes often carry "call Bob 555-0100", a secretary's e-mail or
"Ask for Robert Smithers". Contact fields never leave staging (normalization does not read them); this module
cleans what is left in prose.

- E-mail addresses and phone numbers become ``[redacted]``. A number is kept when it is the meeting's own
  conference phone, when it is a dial-in (labelled "Dial-In", "conference call" … or followed by its access
  code: ",,901964988#", "ID: 749881#", "with access code of 514510"), or when it is itself a meeting id or
  passcode ("Zoom ID: 689 828 1954"): those are the meeting's public access details, not a member's line.
- A full personal name keeps its first name(s) and is cut to the last initial, the fellowships' own convention:
  "Ask for Robert Smithers." → "Ask for Robert S."; "George B." is left as it is. A name is a run of two or
  three capitalised words whose first is a US Census given name; without a cue word before it ("ask for",
  "contact", "call" …) its last word must also be a Census surname and its first not an everyday word
  (Hope, Grace, Will). Place and meeting names that look like names are not names: a run that goes on
  ("Martin Luther King Jr Blvd"), ends in a place or meeting word ("Joe and Charlie Big Book", "Grace Hall"),
  follows "St."/"Mt."/a house number, or is possessive ("Dr. Bob's house", "St. John's Church").
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from transforms.refdata import data_rows

REDACTED = "[redacted]"

_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_SEP = r"[\s.\-\u2010-\u2013]?"
_NANP = rf"(?:\+?1{_SEP})?(?:\(\d{{3}}\)\s?|\d{{3}}{_SEP})\d{{3}}{_SEP}\d{{4}}"
"""North American numbers: 646-555-0100, (646) 555 0100, +1.646.555.0100 (3-3-4, not Zoom's 3-4-4)."""
_LOCAL = r"\d{3}[.\-]\d{4}"
"""Seven-digit local numbers need a dash or dot (555-0100), so passcodes like 5550100 stay."""
_INTERNATIONAL = r"\+\d{1,3}(?:[\s.\-/]?\(?\d{1,5}\)?){2,6}"
"""+49 30 1234567, +44 (0)20 7946 0000."""
_DIAL_SUFFIX = re.compile(r"[,;#*]|\b(?:ext|x)\b", re.IGNORECASE)
"""Where a dial string's post-dial part (",,123456#") or an extension starts."""
_CONTACT = re.compile(rf"{_EMAIL}|(?<![\w+])(?:{_NANP}|{_INTERNATIONAL}|{_LOCAL})(?![\w])")

_CODE_WORD = r"(?:\bid|\bcode|pass\s*(?:code|word)|\bpin|\bpw)"
_CODE_LABEL = re.compile(rf"{_CODE_WORD}\s*(?:#|no\.?|number)?\s*[:#=]?\s*$", re.IGNORECASE)
"""Text right before a number that makes it a meeting id or passcode ("Zoom ID: ", "passcode ")."""
_DIAL_LABEL = re.compile(
    r"\b(?:dial(?:[\s-]*in)?|call-in|call\s+in\s+(?:number|line)|conference\s+(?:call|line|number)|teleconference|one\s+tap\s+mobile)\b"
    r"[^\n]{0,25}$",
    re.IGNORECASE,
)
"""Text on the number's line, before it, that names a dial-in ("Dial-In Phone No.: ", "Conference Call ")."""
_ACCESS_CODE = re.compile(
    rf"[ \t]*(?:[,;]+[ \t]*[*#]?\d|(?:\n[ \t]*)?[^\n]{{0,40}}?(?:{_CODE_WORD}|\baccess\s+code)\b[^\n\d]{{0,12}}\d)",
    re.IGNORECASE,
)
"""Text right after a number that gives its access code, on the same or the next line (``match`` at its end)."""
_URL_BEFORE = re.compile(r"(?:https?://|www\.)\S*$", re.IGNORECASE)
"""A number inside a link (map coordinates, ids in a path) is part of the link."""

_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*\.?|\d[\w/-]*|[^\sA-Za-z\d]")
_CAPITALISED = re.compile(r"(?:Mc|Mac|O'|O’|D'|D’)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?")
_CUE = re.compile(
    r"(?:\bask(?:ing)?\s+for|\bcontact(?:\s+person)?|\bcall|\btext|\be-?mail|\breach|\bspeak\s+(?:to|with)|"
    r"\btalk\s+to|\bsee|\bsecretary|\bsponsor|\bchair(?:person)?|\bspeaker|\bled\s+by|\bhosted\s+by|\bgsr|"
    r"\btreasurer|\bthanks\s+to|\binfo(?:rmation)?|\bquestions)\W{0,3}$",
    re.IGNORECASE,
)
"""Words right before a name that say a person is meant ("ask for", "contact", "call Mary Ellen Jones")."""
_PLACE_BEFORE = frozenset({"st", "st.", "ste", "saint", "mt", "mt.", "mount", "fort", "ft", "ft.", "san", "santa",
                           "lake", "dr", "dr.", "rev", "rev.", "father", "fr", "fr.", "pastor", "sister", "brother",
                           "pope", "camp", "port", "cape"})  # fmt: skip
"""Words before a given name that make it part of a place or a title ("St. John", "Mt. Carmel", "Dr. Bob")."""
_PLACE_AFTER = re.compile(r",\s*(?:[A-Z]{2}\b|\d{5}\b)")
"""A state code or ZIP right after the run: a town ("Glen Mills, PA 19342")."""


COMMON_GIVEN_RANK = {"dist.male.first": 600, "dist.female.first": 1000}
"""Ranks (by frequency) up to which a Census given name starts a name with no cue word: rarer ones are as
often words ("Sunday", "Willow", "Golden", "In")."""
COMMON_SURNAME_RANK = 20_000
"""Rank up to which a Census surname ends a name with no cue word ("Smithers" is 5,522; "Kill" 30,172)."""


def _census(name: str) -> dict[str, int]:
    """Name → frequency rank in one US Census 1990 list shipped by the ``names`` package (public domain)."""
    text = resources.files("names").joinpath(name).read_text(encoding="ascii")
    rows = (line.split() for line in text.splitlines() if line.strip())
    return {row[0].lower(): int(row[3]) for row in rows}


@cache
def _words(kind: str) -> frozenset[str]:
    """``transforms/data/name_words.csv``: place and meeting words that are not surnames ("Hall", "Book"), and
    given names that are also everyday words ("Hope", "Will"), which need a cue word before them."""
    return frozenset(row["word"] for row in data_rows("name_words.csv") if row["kind"] == kind)


@cache
def _street_suffixes() -> frozenset[str]:
    """Street suffixes and their USPS abbreviations ("lane", "ln"): a run ending in one is a street ("Cherry
    Ln", "Jackson Street"), not a person."""
    rows = [row for row in data_rows("street_abbreviations.csv") if row["kind"] == "suffix"]
    return frozenset(w.lower() for row in rows for w in (row["word"], row["abbreviation"]))


@cache
def _given_names() -> frozenset[str]:
    return frozenset(_census("dist.male.first")) | frozenset(_census("dist.female.first"))


@cache
def _common_given_names() -> frozenset[str]:
    return frozenset(name for file, top in COMMON_GIVEN_RANK.items() for name, rank in _census(file).items()
                     if rank <= top)  # fmt: skip


@cache
def _common_surnames() -> frozenset[str]:
    return frozenset(name for name, rank in _census("dist.all.last").items() if rank <= COMMON_SURNAME_RANK)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _is_access_detail(text: str, match: re.Match[str], keep: str) -> bool:
    """The number at ``match`` is the meeting's conference phone, a dial-in, or a meeting id / passcode."""
    found = match.group(0)
    tail = _digits(found)[-10:]
    if keep and keep[-len(tail) :] == tail:
        return True
    line_before = text[: match.start()].rpartition("\n")[2]
    if _CODE_LABEL.search(line_before) or _DIAL_LABEL.search(line_before) or _URL_BEFORE.search(line_before):
        return True
    return _ACCESS_CODE.match(text, match.end()) is not None


def redact_contacts(text: str, keep_phone: str | None = None) -> str:
    """``text`` with e-mail addresses and personal phone numbers replaced by ``[redacted]`` (names untouched:
    for checking place text, where "John Knox" is a church)."""
    keep = _digits(_DIAL_SUFFIX.split(keep_phone or "", maxsplit=1)[0])

    def replace(match: re.Match[str]) -> str:
        if "@" in match.group(0) or not _is_access_detail(text, match, keep):
            return REDACTED
        return match.group(0)

    return _CONTACT.sub(replace, text)


def _word(token: str) -> str | None:
    """A capitalised word without its sentence-final period ("Smithers." → "Smithers"); initials are not."""
    word = token[:-1] if token.endswith(".") else token
    return word if _CAPITALISED.fullmatch(word) else None


def _adjacent(text: str, left: re.Match[str], right: re.Match[str]) -> bool:
    """Two tokens of one run: only spaces between them, and the left one does not end a sentence."""
    return (
        text[left.end() : right.start()].strip(" \t") == ""
        and left.start() < right.start()
        and (not left.group(0).endswith(".") or len(left.group(0)) <= 3)
    )


def _full_name(text: str, tokens: list[re.Match[str]], i: int) -> tuple[int, str] | None:
    """(index of the name's last token, its replacement) when a full personal name starts at token ``i``."""
    first = _word(tokens[i].group(0))
    if not first or first.lower() not in _given_names() or tokens[i].group(0).endswith("."):
        return None
    if i > 0 and _adjacent(text, tokens[i - 1], tokens[i]):
        before = tokens[i - 1].group(0)
        if before.lower() in _PLACE_BEFORE or before[0].isdigit():
            return None
        if _word(before) and not _CUE.search(text[: tokens[i].start()]):
            return None  # inside a longer run of capitalised words: a place, a meeting, a title
    cue = _CUE.search(text[: tokens[i].start()].rpartition("\n")[2]) is not None
    for size in (3, 2):
        end = i + size - 1
        if end >= len(tokens) or not all(_adjacent(text, tokens[k], tokens[k + 1]) for k in range(i, end)):
            continue
        words = [_word(t.group(0)) for t in tokens[i : end + 1]]
        if not all(words) or tokens[end].group(0).endswith(("'s", "’s")):
            continue
        last = words[-1].lower()  # type: ignore[union-attr]
        middle = [w.lower() for w in words[1:-1] if w]
        if (
            last in _words("not_a_surname")
            or last in _street_suffixes()
            or any(m not in _given_names() for m in middle)
        ):
            continue
        if end + 1 < len(tokens) and _adjacent(text, tokens[end], tokens[end + 1]) and _word(tokens[end + 1].group(0)):
            continue  # the run goes on ("Martin Luther King Jr Blvd")
        if not cue and (
            first.lower() in _words("everyday_given_name")
            or first.lower() not in _common_given_names()
            or last not in _common_surnames()
            or _PLACE_AFTER.match(text, tokens[end].end())
        ):
            continue
        return end, " ".join(w for w in words[:-1] if w) + f" {words[-1][0]}."  # type: ignore[index]
    return None


def _redact_names(text: str) -> str:
    tokens = list(_TOKEN.finditer(text))
    out, cursor, i = [], 0, 0
    while i < len(tokens):
        if found := _full_name(text, tokens, i):
            end, replacement = found
            out += [text[cursor : tokens[i].start()], replacement]
            cursor, i = tokens[end].end(), end + 1
        else:
            i += 1
    return "".join(out) + text[cursor:]


def redact(text: str | None, keep_phone: str | None = None) -> str | None:
    """``text`` with e-mail addresses and personal phone numbers replaced by ``[redacted]`` and full personal
    names cut to first name and last initial.

    ``keep_phone`` is the meeting's conference phone: a number whose last ten digits (all of them, if fewer)
    match the end of its number is the meeting's own line and is kept.
    """
    if not text:
        return text
    return _redact_names(redact_contacts(text, keep_phone))
