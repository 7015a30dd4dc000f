"""Online access: which provider a conference URL belongs to, its meeting id, and dial-in numbers.

Only http(s) links on known provider hosts are trusted (as the 12 Step Meeting List does): a
``zoommtg://`` or ``javascript:`` link, or a link to an arbitrary site, is not a way into a meeting. The
allowlist and the id patterns are data (``data/conference_providers.csv``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

import phonenumbers

from transforms.refdata import data_rows

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_DIAL_SUFFIX = re.compile(r"^(?P<number>[^,;#]*?)\s*(?P<suffix>[,;][0-9,;#*\s]*|#)?$")


@dataclass(frozen=True)
class _Provider:
    host: str
    provider: str
    id_pattern: re.Pattern[str] | None


class Conference(NamedTuple):
    url: str | None
    provider: str | None
    meeting_id: str | None


@cache
def _providers() -> tuple[_Provider, ...]:
    """Allowlist rows, longest host first so ``meet.goto.com`` wins over a shorter suffix."""
    rows = [
        _Provider(r["host"], r["provider"], re.compile(r["id_pattern"]) if r["id_pattern"] else None)
        for r in data_rows("conference_providers.csv")
    ]
    return tuple(sorted(rows, key=lambda p: -len(p.host)))


def _provider_for(host: str) -> _Provider | None:
    return next((p for p in _providers() if host == p.host or host.endswith("." + p.host)), None)


def parse_conference_url(value: str | None) -> Conference:
    """The URL (whitespace removed, ``https://`` added to a bare known host), provider and meeting id.

    Everything is ``None`` when the value is not an http(s) URL on an allowlisted host.
    """
    none = Conference(None, None, None)
    if not value:
        return none
    url = "".join(value.split())
    if not _SCHEME.match(url):
        url = "https://" + url.lstrip("/")
    try:
        parts = urlsplit(url)
    except ValueError:
        return none
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme.lower() not in ("http", "https") or not host:
        return none
    provider = _provider_for(host)
    if provider is None:
        return none
    meeting_id = None
    if provider.id_pattern and (match := provider.id_pattern.search(parts.path + "?" + parts.query)):
        meeting_id = unquote(next(g for g in match.groups() if g))
    return Conference(url, provider.provider, meeting_id)


def normalize_phone(value: str | None, region: str | None) -> str | None:
    """E.164 number, followed by the source's post-dial sequence (",,123456789#") when it gave one.

    ``region`` (ISO country) resolves national numbers; a number inside text ("+1 312 626 6799 US
    (Chicago)") is found. A value without a valid number is dropped: a dial-in that cannot be dialled
    helps nobody.
    """
    if not value:
        return None
    match = _DIAL_SUFFIX.match(value.strip())
    number, suffix = (match["number"], match["suffix"] or "") if match else (value, "")
    found = next(iter(phonenumbers.PhoneNumberMatcher(number, region or "US")), None)
    if found is None:
        return None
    return phonenumbers.format_number(found.number, phonenumbers.PhoneNumberFormat.E164) + "".join(suffix.split())
