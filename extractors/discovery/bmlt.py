"""The NA world's directory of BMLT root servers, as ``bmlt`` registry entries.

The BMLT aggregator keeps the list of every participating root server (``serverList.json``: id, name, url;
its ``rootServerList.json`` twin says ``rootURL``). One root server becomes one source:

- id ``bmlt-<host>``: the host without a leading ``www.``/``bmlt.`` label (software, not region), dots as
  dashes; when two servers share a host, their path is added. An id, once in a registry file, never changes
  (``registry_file.merge`` keeps it): the list's own numeric id is not used, because it is the aggregator's
  bookkeeping, not the server's identity.
- name from the list, fellowship NA, url the root server URL as listed.
- country from the host's country-code domain (``.de`` → DE) when it has one; on a generic domain
  (``.org``, ``.com``) the list says nothing about the country and the entry says nothing either, so the
  registry default (US) applies until an operator sets ``country:``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from extractors.discovery import DiscoveryError
from extractors.discovery.registry_file import Listed, host_key, ids_from_hosts

LIST_URL = "https://raw.githubusercontent.com/bmlt-enabled/aggregator/main/serverList.json"
"""Where the aggregator publishes the list (repository bmlt-enabled/aggregator, branch main)."""
DIRECTORY = "the BMLT server list"
OWNED = ("name", "url")
"""What the list says about a server and keeps current; everything else in an entry is the operator's."""
SOFTWARE_LABELS = frozenset({"bmlt", "bmltadmin"})
NOT_COUNTRIES = frozenset({"eu", "io", "co", "me", "tv", "fm", "ai", "ly", "cc", "ws", "to", "gg", "sh", "ac", "nu",
                           "tk", "la", "am"})  # fmt: skip
"""Two-letter domains used as generic ones (or not a country: .eu), which say nothing about where a server is."""


@dataclass(frozen=True)
class RootServer:
    name: str
    url: str
    list_id: str | None = None
    """The aggregator's own number for the server; shown in reports, never used as identity."""


def parse_server_list(body: bytes, origin: str) -> list[RootServer]:
    """The servers of a server list; raises ``DiscoveryError`` naming ``origin`` and the entry when it is not one."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DiscoveryError(f"{origin}: not JSON ({exc}); expected the aggregator's serverList.json") from None
    if not isinstance(data, list) or not data:
        raise DiscoveryError(f"{origin}: expected a non-empty JSON array of servers (id, name, url)")
    servers = []
    for n, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise DiscoveryError(f"{origin}: entry {n} is not an object: {item!r:.100}")
        url = str(item.get("url") or item.get("rootURL") or "").strip()
        name = " ".join(str(item.get("name") or "").split())
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DiscoveryError(f"{origin}: entry {n} ({name or 'no name'}) has no http(s) url: {item!r:.150}")
        list_id = str(item["id"]) if item.get("id") not in (None, "") else None
        servers.append(RootServer(name=name or host_key(url), url=url, list_id=list_id))
    return servers


def source_ids(urls: list[str]) -> list[str]:
    return ids_from_hosts(urls, "bmlt", SOFTWARE_LABELS)


def country_from_host(url: str) -> str | None:
    """ISO country code of the host's country-code domain (``.uk`` → GB), ``None`` on a generic domain."""
    tld = host_key(url).partition(":")[0].rsplit(".", 1)[-1]
    if len(tld) != 2 or not tld.isalpha() or tld in NOT_COUNTRIES:
        return None
    return "GB" if tld == "uk" else tld.upper()


def listed_sources(servers: list[RootServer]) -> list[Listed]:
    """The registry entry discovery writes for each server (``country`` only when the host says it)."""
    listed = []
    for server, sid in zip(servers, source_ids([s.url for s in servers]), strict=True):
        entry = {"id": sid, "name": server.name, "fellowship": "NA", "kind": "bmlt", "url": server.url}
        country = country_from_host(server.url)
        if country and country != "US":
            entry["country"] = country
        listed.append(Listed(entry=entry, owned=OWNED))
    return listed
