"""The one privacy rule for free text: personal e-mail addresses and phone numbers are redacted.

Fellowship traditions protect members' anonymity; notes often carry "call Bob 555-0100" or a secretary's
e-mail. Contact fields never leave staging (normalization does not read them); this function cleans what
is left in prose. The meeting's own dial-in number is public information and is kept.
"""

from __future__ import annotations

import re

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
_PATTERN = re.compile(rf"{_EMAIL}|(?<![\w+])(?:{_NANP}|{_INTERNATIONAL}|{_LOCAL})(?![\w])")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def redact(text: str | None, keep_phone: str | None = None) -> str | None:
    """``text`` with e-mail addresses and phone numbers replaced by ``[redacted]``.

    A number whose last ten digits (all of them, if fewer) match the end of ``keep_phone``'s number is the
    meeting's own conference line and is kept.
    """
    if not text:
        return text
    keep = _digits(_DIAL_SUFFIX.split(keep_phone or "", maxsplit=1)[0])

    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        tail = _digits(found)[-10:]
        return found if "@" not in found and keep and keep[-len(tail) :] == tail else REDACTED

    return _PATTERN.sub(replace, text)
