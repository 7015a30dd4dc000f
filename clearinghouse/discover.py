"""``clearinghouse sources discover bmlt|tsml``: read a public directory politely, merge it into a registry file,
say what changed.

The reading and merging are ``extractors.discovery``'s pure functions; this module brings the polite client,
the file and the report. A file is written only when something changed (so its header's date is the last
change), validated like ``clearinghouse sources check`` first, and replaced atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table

from extractors.discovery import DiscoveryError, bmlt, tsml
from extractors.discovery.registry_file import MergeReport, merge, read_entries, render
from extractors.http import PoliteClient
from extractors.records import FetchError
from extractors.registry import RegistryError, load_registry
from foundation.settings import Settings, settings

MAX_REMOVED_SHARE = 0.25
"""A refresh that would disable more than this share of the known servers stops: a truncated or wrong list is
likelier than a quarter of the world's servers closing at once (``--accept-removals`` when it is real)."""


def _get(client: PoliteClient, source_id: str) -> tsml.Get:
    def get(url: str, expect: str) -> tuple[bytes, str]:
        response = client.get(url, source_id=source_id, expect=expect)
        return response.body, response.content_type

    return get


def _console() -> Console:
    """Report lines are not wrapped (an operator copies ids and URLs from them), nor highlighted."""
    return Console(stderr=True, soft_wrap=True, highlight=False)


def _existing(out: Path) -> list[dict[str, Any]]:
    return read_entries(out.read_text(encoding="utf-8"), str(out)) if out.exists() else []


def _write(out: Path, text: str) -> int:
    """Validate ``text`` as a registry (the errors name ``out``), then replace ``out`` with it; returns its size."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        sources = load_registry(tmp)
    except RegistryError as exc:
        tmp.unlink()
        raise RegistryError(str(exc).replace(str(tmp), str(out))) from None
    tmp.replace(out)
    return len(sources)


def _print_report(report: MergeReport, out: Console) -> None:
    for entry in report.added:
        country = f", country {entry['country']}" if entry.get("country") else ""
        out.print(f"  [green]+ {entry['id']}[/]  {entry['name']}  {entry['url']}{country}")
    for sid, key, old, new in report.changed:
        out.print(f"  [yellow]~ {sid}[/]  {key}: {old!r} → {new!r}")
    for entry in report.restored:
        out.print(f"  [cyan]↺ {entry['id']}[/]  listed again: note removed")
    for entry in report.removed:
        out.print(f"  [red]- {entry['id']}[/]  {entry['notes']}")
    for url in report.listed_twice:
        out.print(f"  [yellow]! listed twice, kept once: {url}[/]")
    out.print(
        f"added {len(report.added)}, changed {len({c[0] for c in report.changed})}, restored {len(report.restored)}, "
        f"removed {len(report.removed)} (still absent {len(report.still_absent)}), unchanged {report.unchanged}"
    )


def _finish(
    out: Path, entries: list[dict[str, Any]], report: MergeReport, header: list[str], dry_run: bool, console: Console
) -> int:
    _print_report(report, console)
    if not report.changes and out.exists():
        console.print(f"no change: {out} left as it was")
        return 0
    if dry_run:
        console.print(f"dry run: {out} not written")
        return 0
    count = _write(out, render(entries, header))
    console.print(f"wrote {out}: {count} sources, valid (`clearinghouse sources check --sources {out}` passes)")
    return 0


def read_server_list(server_list: str, client: Callable[[], PoliteClient]) -> bytes:
    """The list's bytes from a URL (politely) or a file."""
    if urlsplit(server_list).scheme in ("http", "https"):
        return client().get(server_list, source_id="discover-bmlt", expect="json").body
    path = Path(server_list)
    if not path.is_file():
        raise DiscoveryError(f"{server_list}: no such file (give a server list file or its http(s) URL)")
    return path.read_bytes()


def discover_bmlt(
    server_list: str,
    out: Path,
    *,
    accept_removals: bool = False,
    dry_run: bool = False,
    cfg: Settings | None = None,
    console: Console | None = None,
) -> int:
    cfg, console = cfg or settings(), console or _console()
    clients: list[PoliteClient] = []

    def client() -> PoliteClient:
        clients.append(PoliteClient.from_settings(cfg))
        return clients[-1]

    try:
        known = _existing(out)
        servers = bmlt.parse_server_list(read_server_list(server_list, client), server_list)
    except (DiscoveryError, FetchError) as exc:
        console.print(f"[bold red]nothing discovered[/]: {exc}")
        return 1
    finally:
        for c in clients:
            c.close()
    today = datetime.now(UTC).date()
    entries, report = merge(
        known, bmlt.listed_sources(servers), kind="bmlt", directory=bmlt.DIRECTORY, today=today, retire=True
    )
    console.print(
        f"{server_list}: {len(servers)} root servers; {out}: {sum(e.get('kind') == 'bmlt' for e in known)} known"
    )
    had = sum(1 for e in known if e.get("kind") == "bmlt" and e.get("enabled", True))
    if report.removed and not accept_removals and len(report.removed) > max(2, MAX_REMOVED_SHARE * had):
        _print_report(report, console)
        console.print(
            f"[bold red]not written[/]: the list drops {len(report.removed)} of {had} known servers; is it complete? "
            "If it is, run again with --accept-removals"
        )
        return 1
    generic = [e["id"] for e in report.added if "country" not in e]
    header = [
        "NA root servers from the BMLT server list, one `bmlt` source each: written by",
        f"`clearinghouse sources discover bmlt` from {server_list} ({len(servers)} servers) on {today.isoformat()}.",
        f"Refresh: clearinghouse sources discover bmlt {bmlt.LIST_URL} --out {out}",
        "Ids never change. name and url follow the list; every other key (timezone, country, enabled, notes, …) is",
        "yours and is kept. A server the list drops is disabled with a note, not deleted. country comes from the",
        "host's country-code domain; on .org/.com hosts the registry default US applies: set it when wrong.",
        "Comments other than this header are not kept: write remarks in `notes:`.",
    ]
    code = _finish(out, entries, report, header, dry_run, console)
    if generic:
        console.print(
            f"on a generic domain, so country US is assumed (set `country:` where wrong): {', '.join(generic)}",
        )
    return code


VERDICT_STYLE = {"feed_open": "green", "feed_restricted": "yellow"}


def discover_tsml(
    urls: list[str],
    out: Path,
    *,
    fellowship: str = "AA",
    dry_run: bool = False,
    cfg: Settings | None = None,
    console: Console | None = None,
) -> int:
    cfg, console = cfg or settings(), console or _console()
    try:
        known = _existing(out)
    except DiscoveryError as exc:
        console.print(f"[bold red]nothing discovered[/]: {exc}")
        return 1
    client = PoliteClient.from_settings(cfg)
    get = _get(client, "discover-tsml")
    try:  # one site at a time per host (the client's lock), several hosts at once
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(urls)))) as pool:
            verdicts = list(pool.map(lambda url: tsml.discover_site(url, get), urls))
    finally:
        client.close()
    table = Table(title="12 Step Meeting List discovery")
    for column in ("url", "verdict", "why"):
        table.add_column(column, overflow="fold")
    for v in verdicts:
        table.add_row(v.url, f"[{VERDICT_STYLE.get(v.verdict, 'red')}]{v.verdict}[/]", v.detail)
    console.print(table)
    programs = {v.page.program for v in verdicts if v.is_source and v.page and v.page.program}
    if programs - {fellowship}:
        console.print(
            f"the sites' plugin is set up for program(s) {', '.join(sorted(programs))}; these entries say "
            f"{fellowship} (--fellowship to change)"
        )
    listed = tsml.listed_sources(verdicts, fellowship.upper())
    if not listed and not out.exists():
        console.print(f"no feed found: {out} not written")
        return 0
    today = datetime.now(UTC).date()
    entries, report = merge(known, listed, kind="meeting_guide", directory="discovery", today=today, retire=False)
    header = [
        "12 Step Meeting List feeds, one `meeting_guide` source per site: written by",
        f"`clearinghouse sources discover tsml` ({len(listed)} of {len(urls)} sites asked had a feed) on {today}.",
        "Add or refresh sites: clearinghouse sources discover tsml URL... --out " + str(out),
        "Ids never change; url follows the site; every other key is yours and is kept. Sites not asked again are",
        "left as they are. A feed that needs a key is written disabled, with `auth:` and a note on asking for one.",
        "Comments other than this header are not kept: write remarks in `notes:`.",
    ]
    return _finish(out, entries, report, header, dry_run, console)
