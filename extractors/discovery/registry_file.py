"""A registry file that discovery writes and operators edit: merge a directory's listing into it, report, render.

Matching: a listed source is the known entry with the same URL (scheme, a leading ``www.`` and a trailing
slash aside); failing that, the known entry on the same host when it is the only unmatched one there and the
listing has only one unmatched source there (a server that moved path). Never by name: names change, and two
regions may share one.

Ownership: a known entry keeps its id forever (it keys provenance) and every key except the ones the
directory owns (``Listed.owned``, e.g. BMLT ``name`` and ``url``), which follow the directory. So an
operator's ``timezone``, ``country``, ``enabled: false`` or ``notes`` survive every refresh.

Removal: a known entry the directory no longer lists is not deleted (its id stays reserved, its history
readable) but disabled with a note saying since when, which closes its meetings on the next run (a server
that left the list was shut down or merged into another one, whose meetings would otherwise be published
twice). If the directory lists it again, the note goes and it is enabled again, unless an operator had
disabled it before.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import yaml

from extractors.discovery import DiscoveryError
from foundation.source import SOURCE_ID, Source

KEY_ORDER = tuple(Source.model_fields)
"""Keys are written in the registry model's order: id, name, fellowship, kind, url, enabled, …"""

_RETIRED = re.compile(
    r"^Not in (?P<directory>.+?) since (?P<day>\d{4}-\d{2}-\d{2})(?P<disabled>: disabled by discovery)?\.\s*"
)


@dataclass(frozen=True)
class Listed:
    """One source a directory lists, as the registry entry discovery would write for it.

    ``entry["id"]`` is a proposal, used only when the source is new. ``owned`` are the keys refreshed from the
    directory on every run; every other key of ``entry`` is written only when the entry is created.
    """

    entry: dict[str, Any]
    owned: tuple[str, ...]

    @property
    def url(self) -> str:
        return self.entry["url"]


@dataclass
class MergeReport:
    """What a merge did, for the operator: ids and what changed, never silently."""

    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    """Newly disabled because the directory no longer lists them."""
    restored: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    """(id, key, old value, new value) for every directory-owned key that changed."""
    still_absent: list[str] = field(default_factory=list)
    """Disabled by an earlier refresh and still not listed."""
    unchanged: int = 0
    listed_twice: list[str] = field(default_factory=list)
    """URLs the directory lists more than once (the first is kept)."""

    @property
    def changes(self) -> bool:
        return bool(self.added or self.removed or self.restored or self.changed)


def url_key(url: str) -> str:
    """``url`` as matching sees it: host without ``www.``, non-default port, path without trailing slash, query."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    return f"{host_key(url)}{path}" + (f"?{parts.query}" if parts.query else "")


def host_key(url: str) -> str:
    """The host of ``url`` without a leading ``www.``, with its port when it is not the scheme's default."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{host}:{parts.port}" if parts.port and parts.port != default else host


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _host_slug(url: str, software: frozenset[str]) -> str:
    host, _, port = host_key(url).partition(":")
    labels = host.split(".")
    while len(labels) > 2 and labels[0] in software:
        labels = labels[1:]
    return slug("-".join([*labels, port]))


def ids_from_hosts(urls: list[str], prefix: str, software: frozenset[str] = frozenset()) -> list[str]:
    """One id per URL, ``<prefix>-<host>``: the host without ``www.`` nor leading ``software`` labels (they name
    the software, not the place), dots as dashes. Sites that share a host get their path added; hosts that
    differ only by such a label (bmlt.x.org, www.x.org) keep their full host."""
    short = [_host_slug(u, software) for u in urls]
    full = [_host_slug(u, frozenset()) for u in urls]
    shorts = Counter(short)
    hosts = Counter(host_key(u) for u in urls)
    ids = []
    for url, s, f in zip(urls, short, full, strict=True):
        base = s if shorts[s] == 1 else f
        if hosts[host_key(url)] > 1:
            base = f"{base}-{slug(urlsplit(url).path)}"
        ids.append(fit_id(f"{prefix}-{base}"))
    return ids


def fit_id(candidate: str) -> str:
    """A valid registry id from ``candidate``: at most 63 characters, never ending in '-'."""
    candidate = candidate[:63].rstrip("-")
    if not SOURCE_ID.match(candidate):
        raise DiscoveryError(f"cannot make a source id from {candidate!r}")
    return candidate


def _unique(candidate: str, taken: set[str]) -> str:
    if candidate not in taken:
        return candidate
    n = 2
    while fit_id(f"{candidate[:60]}-{n}") in taken:
        n += 1
    return fit_id(f"{candidate[:60]}-{n}")


def _retire(entry: dict[str, Any], directory: str, today: date) -> dict[str, Any]:
    disabled = entry.get("enabled", True)
    marker = f"Not in {directory} since {today.isoformat()}" + (": disabled by discovery." if disabled else ".")
    notes = entry.get("notes")
    return {**entry, "enabled": False, "notes": f"{marker} {notes}" if notes else marker}


def _restore(entry: dict[str, Any], match: re.Match[str]) -> dict[str, Any]:
    restored = {k: v for k, v in entry.items() if k != "notes"}
    rest = entry["notes"][match.end() :].strip()
    if rest:
        restored["notes"] = rest
    if match.group("disabled"):
        restored.pop("enabled", None)  # enabled is the default
    return restored


def ordered(entry: dict[str, Any]) -> dict[str, Any]:
    known = [k for k in KEY_ORDER if k in entry]
    return {k: entry[k] for k in [*known, *sorted(set(entry) - set(known))]}


def merge(
    known: list[dict[str, Any]],
    listed: list[Listed],
    *,
    kind: str,
    directory: str,
    today: date,
    retire: bool,
) -> tuple[list[dict[str, Any]], MergeReport]:
    """The file's entries after taking in ``listed``; entries of other kinds are left exactly as they are.

    ``retire``: the listing is the whole directory, so a known ``kind`` entry it lacks was removed from it
    (BMLT server list); otherwise the listing is only what was asked this time (``discover tsml URL…``).
    """
    report = MergeReport()
    candidates = [i for i, e in enumerate(known) if e.get("kind") == kind and e.get("url")]
    by_url: dict[str, int] = {}
    for i in candidates:
        by_url.setdefault(url_key(str(known[i]["url"])), i)
    seen: set[str] = set()
    pending: list[Listed] = []
    for item in listed:
        key = url_key(item.url)
        if key in seen:
            report.listed_twice.append(item.url)
            continue
        seen.add(key)
        pending.append(item)

    matches: dict[int, Listed] = {}
    new: list[Listed] = []
    for item in pending:
        i = by_url.get(url_key(item.url))
        if i is not None and i not in matches:
            matches[i] = item
        else:
            new.append(item)
    # A server that moved path on its host: one unmatched known and one unmatched listed entry on that host.
    hosts_known: dict[str, list[int]] = defaultdict(list)
    for i in candidates:
        if i not in matches:
            hosts_known[host_key(str(known[i]["url"]))].append(i)
    hosts_new: dict[str, list[Listed]] = defaultdict(list)
    for item in new:
        hosts_new[host_key(item.url)].append(item)
    for host, items in hosts_new.items():
        if len(items) == 1 and len(hosts_known.get(host, [])) == 1:
            matches[hosts_known[host][0]] = items[0]
            new.remove(items[0])

    result: list[dict[str, Any]] = []
    for i, entry in enumerate(known):
        if i in matches:
            item = matches[i]
            updated = dict(entry)
            for key in item.owned:
                if updated.get(key) != item.entry[key]:
                    report.changed.append((entry["id"], key, updated.get(key), item.entry[key]))
                    updated[key] = item.entry[key]
            retired = _RETIRED.match(str(updated.get("notes") or ""))
            if retired:
                updated = _restore(updated, retired)
                report.restored.append(updated)
            elif updated == entry:
                report.unchanged += 1
            result.append(updated)
        elif i in candidates and retire:
            retired = _RETIRED.match(str(entry.get("notes") or ""))
            if retired:
                report.still_absent.append(entry["id"])
                result.append(entry)
            else:
                result.append(_retire(entry, directory, today))
                report.removed.append(result[-1])
        else:
            result.append(entry)

    taken = {str(e.get("id")) for e in result}
    for item in new:
        entry = dict(item.entry)
        entry["id"] = _unique(entry["id"], taken)
        taken.add(entry["id"])
        result.append(entry)
        report.added.append(entry)
    return sorted((ordered(e) for e in result), key=lambda e: str(e.get("id"))), report


def read_entries(text: str, where: str) -> list[dict[str, Any]]:
    """The ``sources:`` list of a registry file's text (an empty file is an empty registry)."""
    try:
        doc = yaml.safe_load(text) if text.strip() else {"sources": []}
    except yaml.YAMLError as exc:
        raise DiscoveryError(f"{where}: not valid YAML ({exc}); fix it or choose another --out") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("sources"), list):
        raise DiscoveryError(f"{where}: not a registry file (expected a mapping with a 'sources:' list)")
    entries = doc["sources"]
    bad = [n for n, e in enumerate(entries, 1) if not isinstance(e, dict) or "id" not in e]
    if bad:
        raise DiscoveryError(f"{where}: entries {bad} are not mappings with an id; fix them first")
    return entries


def render(entries: list[dict[str, Any]], header: list[str]) -> str:
    """YAML a person can read and diff: the header as comments, one block per entry, a blank line between."""
    lines = [f"# {line}".rstrip() for line in header]
    if not entries:
        return "\n".join([*lines, "sources: []"]) + "\n"
    lines.append("sources:")
    blocks = []
    for entry in entries:
        text = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)
        blocks.append("\n".join(f"  {line}" for line in text.rstrip("\n").splitlines()))
    return "\n".join(lines) + "\n" + "\n\n".join(blocks) + "\n"
