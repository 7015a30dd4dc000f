"""The fellowship directory: one entry per fellowship (``fellowships/*.yaml``), validated like the registry.

A clearinghouse lists every mutual-help fellowship, 12-step or not, whether or not the project can fetch its
meetings: the directory says what each one helps with, where its own finder is, how that finder publishes,
what its terms say about automated access, and so whether the project fetches it or only refers people to it.
Every source's ``fellowship`` must be one of its codes (``extractors.registry``), and every canonical
fellowship code (``foundation.model.FELLOWSHIPS``, except ``OTHER``) must have an entry.

Faithful data: a fact not confirmed against public material is named in the entry's ``unverified`` list, and
a helpline is given only when a public page of the fellowship states it (``evidence``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from foundation.model import FELLOWSHIPS
from foundation.scope import place
from foundation.settings import registry_files
from foundation.yaml_lists import read_lists

CATEGORIES = ("12-step", "secular", "buddhist", "faith-based", "mental-health-peer")
"""The kinds of mutual-help fellowship a clearinghouse shows side by side (informational parity)."""
FINDER_KINDS = {
    "meeting_guide": "Meeting Guide JSON feeds of its service bodies' 12 Step Meeting List sites",
    "bmlt": "BMLT root servers (semantic JSON API)",
    "finder_platform": "a server-rendered meeting-finder site (listing and detail pages, sitemap)",
    "store_locator": "a store-locator widget (JSON/JSONP or XML markers)",
    "organization_directory": "a directory of chapters or affiliates, whose own sites hold the group schedules",
    "directory": "a web page or PDF list, no machine-readable feed",
    "login": "a finder behind a login",
    "captcha": "a finder behind a CAPTCHA",
}
"""How a fellowship's national finder publishes its meetings."""
ACCESS = ("fetchable", "referral_only", "not_reviewed")
"""``fetchable``: public feeds made for reuse by apps, or terms that allow it; ``referral_only``: terms, a
login or a CAPTCHA rule automated access out, so the directory only links to the finder; ``not_reviewed``: the
site's terms must be read before a source is added (until then, a referral)."""
LISTINGS = ("meetings", "organizations")
"""What the fellowship's finder lists: meetings, or organizations (chapters, affiliates) that hold groups."""
HELPLINE = re.compile(r"^\+[1-9][0-9]{6,14}$")
VERIFIABLE = ("website", "finder_url", "finder_kind", "how_it_publishes", "terms", "helpline", "helps_with")


def _url(value: str | None) -> str | None:
    if value is not None and place(value) is None:
        raise ValueError("expected an http(s) URL")
    return value


class Fellowship(BaseModel):
    """One fellowship of the directory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str
    category: Literal["12-step", "secular", "buddhist", "faith-based", "mental-health-peer"]
    helps_with: str
    website: str
    finder_url: str | None = None
    finder_kind: Literal[
        "meeting_guide", "bmlt", "finder_platform", "store_locator", "organization_directory", "directory", "login",
        "captcha",
    ]  # fmt: skip
    how_it_publishes: str
    listing: Literal["meetings", "organizations"] = "meetings"
    access: Literal["fetchable", "referral_only", "not_reviewed"]
    why: str
    """Why the project fetches it, or only refers to it."""
    terms: str
    """What the fellowship's terms say about automated access, or that they have not been read."""
    terms_url: str | None = None
    helpline: str | None = None
    """A national phone line, only as a public page of the fellowship states it (never guessed)."""
    evidence: list[str] = Field(default_factory=list)
    """Public pages that confirm the entry's facts."""
    unverified: list[str] = Field(default_factory=list)
    """Fields not confirmed against public material (shown as such in ``directory.json``)."""

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if value not in FELLOWSHIPS or value == "OTHER":
            raise ValueError(f"expected a canonical fellowship code (foundation/model.py): {', '.join(FELLOWSHIPS)}")
        return value

    @field_validator("website", "finder_url", "terms_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return _url(value)

    @field_validator("evidence")
    @classmethod
    def _evidence(cls, value: list[str]) -> list[str]:
        for url in value:
            _url(url)
        return value

    @field_validator("unverified")
    @classmethod
    def _unverified(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in VERIFIABLE]
        if unknown:
            raise ValueError(f"expected field names among {', '.join(VERIFIABLE)}")
        return value

    @field_validator("helpline")
    @classmethod
    def _helpline(cls, value: str | None) -> str | None:
        if value is not None and not HELPLINE.match(value):
            raise ValueError("expected an E.164 number such as +18009506264")
        return value

    @model_validator(mode="after")
    def _plain_text(self) -> Fellowship:
        """Every release publishes these texts (HSDS, directory.json, the page): plain text, never markup."""
        marked = [k for k, v in self.model_dump().items() if isinstance(v, str) and ("<" in v or ">" in v)]
        if marked:
            raise ValueError(f"expected plain text without '<' or '>' in {', '.join(marked)}")
        return self

    @model_validator(mode="after")
    def _helpline_sourced(self) -> Fellowship:
        if self.helpline and not self.evidence:
            raise ValueError("a helpline needs `evidence`: the public page that states it")
        return self


class DirectoryError(ValueError):
    """The fellowship directory cannot be used as written; the message lists every problem, one per line."""


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fellowships: list[Fellowship]


def load_directory(path: Path | str) -> list[Fellowship]:
    """Every fellowship of a YAML file or a folder of them, ordered by code; raises ``DirectoryError`` listing
    every problem (file, fellowship, key, what was expected, what was found)."""
    path = Path(path)
    if not path.exists():
        raise DirectoryError(f"{path}: no such fellowship directory file or folder")
    files, problems = read_lists(registry_files(path), "fellowships", _File, "code", "fellowship")
    seen: dict[str, Path] = {}
    entries: list[Fellowship] = []
    for file, parsed in files:
        for entry in parsed.fellowships:
            if entry.code in seen:
                problems.append(f"{file}: fellowship {entry.code!r}: code already used in {seen[entry.code]}")
            seen[entry.code] = file
            entries.append(entry)
    missing = [c for c in FELLOWSHIPS if c != "OTHER" and c not in seen]
    if not problems and missing:
        problems.append(f"{path}: expected an entry for every canonical fellowship code; missing: {', '.join(missing)}")
    if problems:
        raise DirectoryError("\n".join(problems))
    return sorted(entries, key=lambda f: f.code)
