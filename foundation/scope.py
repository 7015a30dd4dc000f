"""Crawl scope: the hosts one source's requests may reach, and the one origin its feed key may be sent to.

A source's requests (listing, next pages, detail pages, every redirect hop, robots.txt) stay on the host of
its registry ``url`` or on the hosts its entry lists in ``allowed_hosts``. A host without a port allows the
default ports (http 80, https 443), so an http → https redirect on the same host stays in scope; a host
with a port (``127.0.0.1:8080``) allows that port only. The feed key goes only to the origin of ``url``
(scheme, host and port), or to its https form when ``url`` is plain http on the default port.

URLs are read with urllib3's parser, the one requests uses to connect, and an authority holding anything
but a host and a port (user info, backslashes, spaces) is out of scope: no two parsers can disagree on
which host such a URL names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

DEFAULT_PORTS = {"http": 80, "https": 443}
_AUTHORITY = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._%-]+)(?::\d{1,5})?$")
_HOST_ENTRY = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_-][A-Za-z0-9._-]*)(?::\d{1,5})?$")


def _normal(host: str) -> str:
    host = host.strip("[]").lower().rstrip(".")
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return host


@dataclass(frozen=True)
class Place:
    """Where a URL points: scheme, normalized host and port (the scheme's default when none is written)."""

    scheme: str
    host: str
    port: int
    explicit_port: bool

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


@functools.lru_cache(maxsize=4096)
def place(url: str) -> Place | None:
    """The place of an absolute http(s) URL with a plain authority, else ``None``.

    Cached: a request asks it of one URL several times (the check, the scope, the key, the hop)."""
    head, sep, rest = url.partition("://")
    if not sep or head.lower() not in DEFAULT_PORTS:
        return None
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if not _AUTHORITY.match(authority):
        return None
    try:
        parts = parse_url(url)
    except LocationParseError:
        return None
    if not parts.host or parts.auth:
        return None
    scheme = (parts.scheme or "").lower()
    port = parts.port or DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        return None
    return Place(scheme, _normal(parts.host), port, parts.port is not None and port != DEFAULT_PORTS[scheme])


def host_entry(entry: str) -> tuple[str, int | None]:
    """An ``allowed_hosts`` entry as (host, port or ``None`` for the default ports); ``ValueError`` if bad."""
    text = entry.strip()
    if not _HOST_ENTRY.match(text):
        raise ValueError(
            f"{entry!r} is not a host name: write it as example.org or example.org:8443, "
            "without scheme, path or wildcard"
        )
    if text.startswith("["):
        host, _, port = text[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = text.partition(":")
    if port and not 0 < int(port) < 65536:
        raise ValueError(f"{entry!r}: port {port} is out of range")
    return _normal(host), int(port) if port else None


@dataclass(frozen=True)
class CrawlScope:
    key_origin: str
    """The origin of the registry ``url``: the only place the feed key is sent (see ``sends_key``)."""
    hosts: frozenset[tuple[str, int | None]]

    @classmethod
    def of(cls, url: str, allowed_hosts: Iterable[str] = ()) -> CrawlScope:
        home = place(url)
        if home is None:
            raise ValueError(f"{url!r} is not an absolute http(s) URL with a plain host")
        own = (home.host, home.port if home.explicit_port else None)
        return cls(home.origin, frozenset({own, *(host_entry(h) for h in allowed_hosts)}))

    def allows(self, url: str) -> bool:
        where = place(url)
        if where is None:
            return False
        if (where.host, where.port) in self.hosts:
            return True
        return (where.host, None) in self.hosts and where.port == DEFAULT_PORTS[where.scheme]

    def sends_key(self, url: str) -> bool:
        """Whether the feed key may go to ``url``: the key origin, or its https form (an upgrade)."""
        where = place(url)
        if where is None:
            return False
        if where.origin == self.key_origin:
            return True
        return self.key_origin == f"http://{where.host}:80" and where.origin == f"https://{where.host}:443"

    def describe(self) -> str:
        return ", ".join(sorted(h if p is None else f"{h}:{p}" for h, p in self.hosts))
