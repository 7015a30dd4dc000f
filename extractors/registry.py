"""The source registry: ``sources/*.yaml`` files, validated before anything is fetched.

Every error names the file, the source id and the key, says what was expected and what was found.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from extractors.scope import CrawlScope, host_entry, place
from transforms.model import FELLOWSHIPS, iana_zones

FAMILIES = ("meeting_guide", "bmlt", "tsml_csv", "recipe")
HTML_FAMILY_PREFIX = "html:"
SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
FEED_KEY_PREFIX = "CLEARINGHOUSE_FEED_KEY_"
FEED_KEY_VARIABLE = re.compile(rf"^{FEED_KEY_PREFIX}[A-Z0-9_]+$")


class RegistryError(ValueError):
    """The registry cannot be used as written; the message lists every problem, one per line."""


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (a national registry is thousands of entries), else the pure one."""


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    fellowship: str
    kind: str
    url: str
    enabled: bool = True
    link_only: bool = False
    """The site's terms forbid automated access: listed as a referral link, never fetched."""
    timezone: str | None = None
    country: str = "US"
    region: str | None = None
    priority: int = Field(default=50, ge=0, le=100)
    min_delay_s: float | None = Field(default=None, ge=0)
    auth: str | None = None
    """Name of the environment variable that holds the feed key (never the key itself); it must start with
    ``CLEARINGHOUSE_FEED_KEY_``, so a registry entry cannot send any other secret of the process to a site."""
    auth_param: str = "key"
    allowed_hosts: list[str] = []
    """Hosts besides the one of ``url`` that the crawl may visit (pages, redirects): ``cdn.example.org`` or
    ``host:port``. Links to any other host are skipped and counted in the fetch record."""
    expected_min_records: int = Field(default=1, ge=0)
    max_drop_share: float = Field(default=0.5, ge=0, le=1)
    max_pages: int = Field(default=200, ge=1)
    schedule: str | None = None
    recipe: dict[str, Any] | None = None
    notes: str | None = None
    terms: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not SOURCE_ID.match(value):
            raise ValueError("expected a lowercase slug of letters, digits and '-' (2–63 characters)")
        return value

    @field_validator("fellowship")
    @classmethod
    def _fellowship(cls, value: str) -> str:
        if value.upper() not in FELLOWSHIPS:
            raise ValueError(f"expected one of {', '.join(FELLOWSHIPS)}")
        return value.upper()

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in FAMILIES and not value.startswith(HTML_FAMILY_PREFIX):
            raise ValueError(f"expected one of {', '.join(FAMILIES)} or html:<family>")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if place(value) is None:
            raise ValueError("expected an http(s) URL with a plain host (no user:password@; a feed key goes in `auth`)")
        return value

    @field_validator("auth")
    @classmethod
    def _auth(cls, value: str | None) -> str | None:
        if value is not None and not FEED_KEY_VARIABLE.match(value):
            raise ValueError(
                f"expected the name of an environment variable that starts with {FEED_KEY_PREFIX} "
                f"(e.g. {FEED_KEY_PREFIX}NYC_INTERGROUP): put the feed key in such a variable and name it "
                "here; other variables (cloud credentials, database passwords) are never sent to a source"
            )
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _allowed_hosts(cls, value: list[str]) -> list[str]:
        for entry in value:
            host_entry(entry)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is not None and value not in iana_zones():
            raise ValueError("expected an IANA time zone such as America/New_York")
        return value

    @model_validator(mode="after")
    def _recipe(self) -> Source:
        """A recipe is checked with the registry, so `sources check` reports its mistakes before any fetch."""
        if self.kind == "recipe":
            from extractors.recipe import load_recipe

            try:
                load_recipe(self.id, self.recipe)
            except Exception as exc:
                raise ValueError(str(exc).removeprefix(f"source {self.id!r}: ")) from None
        return self

    @property
    def family(self) -> str:
        return self.kind.removeprefix(HTML_FAMILY_PREFIX)

    @property
    def secret(self) -> str | None:
        """The feed key from the environment, when the source needs one."""
        return os.environ.get(self.auth) if self.auth else None

    @property
    def scope(self) -> CrawlScope:
        """The hosts this source's requests may reach and the origin its key may go to."""
        return CrawlScope.of(self.url, self.allowed_hosts)


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: list[Source]


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
    if path.exists():
        return [path]
    raise RegistryError(f"{path}: no such registry file or folder")


def _describe(file: Path, entries: list[Any], error: ValidationError) -> list[str]:
    problems = []
    for err in error.errors():
        loc = list(err["loc"])
        if loc[:1] == ["sources"] and len(loc) >= 2 and isinstance(loc[1], int):
            entry = entries[loc[1]] if loc[1] < len(entries) else {}
            sid = entry.get("id", f"#{loc[1] + 1}") if isinstance(entry, dict) else f"#{loc[1] + 1}"
            key = ".".join(str(x) for x in loc[2:]) or "(entry)"
            found = entry.get(loc[2]) if isinstance(entry, dict) and len(loc) > 2 else None
            what = "unknown key (check spelling)" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(
                f"{file}: source {sid!r}, key {key!r}: {what}" + (f"; found {found!r}" if found is not None else "")
            )
        else:
            problems.append(f"{file}: {'.'.join(map(str, loc)) or '(top level)'}: {err['msg']}")
    return problems


def load_registry(path: Path | str) -> list[Source]:
    """All sources from a YAML file or a folder of them; raises ``RegistryError`` listing every problem."""
    problems: list[str] = []
    sources: list[Source] = []
    seen: dict[str, Path] = {}
    for file in _files(Path(path)):
        try:
            doc = yaml.load(file.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
        except yaml.YAMLError as exc:
            problems.append(f"{file}: not valid YAML: {exc}")
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("sources"), list):
            problems.append(f"{file}: expected a mapping with a 'sources:' list")
            continue
        try:
            registry = Registry.model_validate(doc)
        except ValidationError as exc:
            problems.extend(_describe(file, doc["sources"], exc))
            continue
        for source in registry.sources:
            if source.id in seen:
                problems.append(f"{file}: source {source.id!r}: id already used in {seen[source.id]}")
            seen[source.id] = file
            sources.append(source)
    if problems:
        raise RegistryError("\n".join(problems))
    return sources


def select(sources: Iterable[Source], only: Iterable[str] | None = None) -> list[Source]:
    """Enabled sources, or exactly the ``only`` ids (which must exist)."""
    sources = list(sources)
    if not only:
        return [s for s in sources if s.enabled]
    by_id = {s.id: s for s in sources}
    missing = [i for i in only if i not in by_id]
    if missing:
        raise RegistryError(f"unknown source id(s): {', '.join(missing)}; known: {', '.join(sorted(by_id))}")
    return [by_id[i] for i in only]
