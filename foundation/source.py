"""The registry's source model: one entry of ``sources/*.yaml``, validated before anything is fetched.

Every layer reads it (the extractors fetch it, normalization takes its time zone and country, resolution
its priority), so it lives here; loading the YAML files and reporting their mistakes is
``extractors/registry.py``. Every check names what was expected.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from foundation.model import FELLOWSHIPS, iana_zones
from foundation.recipe_schema import validate_recipe
from foundation.scope import CrawlScope, host_entry, place
from foundation.settings import FEED_KEY_PREFIX, feed_key

FAMILIES = ("meeting_guide", "bmlt", "tsml_csv", "recipe")
HTML_FAMILY_PREFIX = "html:"
SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
FEED_KEY_VARIABLE = re.compile(rf"^{FEED_KEY_PREFIX}[A-Z0-9_]+$")


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    fellowship: str
    kind: str
    url: str
    enabled: bool = True
    link_only: bool = False
    """Listed as a referral link, never fetched: the site's terms forbid automated access, or are not yet read
    (``terms`` says which)."""
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
            validate_recipe(self.recipe)
        return self

    @property
    def family(self) -> str:
        return self.kind.removeprefix(HTML_FAMILY_PREFIX)

    @property
    def secret(self) -> str | None:
        """The feed key from the environment, when the source needs one."""
        return feed_key(self.auth) if self.auth else None

    @property
    def scope(self) -> CrawlScope:
        """The hosts this source's requests may reach and the origin its key may go to."""
        return CrawlScope.of(self.url, self.allowed_hosts)
