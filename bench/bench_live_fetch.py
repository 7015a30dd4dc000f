"""How long the fetch of a live night takes at the politeness settings: the live registry's real URLs, answered
from loopback.

Every URL of ``sources/live/`` is served by a local server through the client's demo rewrite, so the client
keeps each source's real host (its per-host lock, lease and ``CLEARINGHOUSE_MIN_DELAY_S`` between requests)
while the bytes come from recordings: a BMLT root server answers as the Greater New York Region's database
(1,555 meetings, 44 service bodies), a Meeting Guide feed as its demo recording. ``--bmlt modern`` (default)
answers the search's ``get_used_formats=1`` with the ``{"meetings", "formats"}`` envelope a current server
sends (GNY's meetings and the GetFormats rows of the format ids they use); ``--bmlt legacy`` with the bare list
of a server that ignores the option. ``--latency-ms`` adds a server's think time to every answer (robots.txt
included). ``--extra-feeds N`` adds N Meeting Guide sources on hosts of their own (the recorded feeds in turn),
for a national registry. What it cannot show: real servers' speed and bandwidth, which add to every request.

Figures: requests per host as the server counted them; the fetch as ``clearinghouse run`` does it
(``--workers`` hosts at once, one request at a time per host); and the fetch as ``make run`` does it:
``airflow dags test`` runs the nightly DAG's mapped fetch tasks one after another, one per batch of whole
hosts (``pipeline.fetch_batches``), each fetching its hosts in parallel; measured by running the batches in
turn into a second home.

    python bench/bench_live_fetch.py [--min-delay-s 1] [--latency-ms 0] [--workers N] [--bmlt modern|legacy]
                                     [--extra-feeds 0] [--skip-batches]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

GNY = REPO / "sources" / "snapshots" / "gny-na"
MG = REPO / "sources" / "snapshots" / "mg"
FEEDS = {  # the demo recording of each live Meeting Guide feed (sources/snapshots/index.yaml)
    "alanon-ma": "alanonma_massachusetts_al-anon_2023-08-22.json",
    "nepa-aa": "aaintergroupnepa_ne-pennsylvania_2026-03-20.json",
    "oc-aa": "oc-aa_orange-county-ca_2023-08-31.json",
    "sanjose-aa": "aasanjose-sheets_santa-clara-county-ca_2021-10.json",
    "sepia-aa": "aasepia_se-pennsylvania_2022-10-14.json",
    "sussex-aa": "sussexaa_sussex-county-de_2022-09-01.json",
}
ROBOTS = b"User-agent: *\nAllow: /\n"


def used_formats_envelope() -> bytes:
    """GNY's search as a server answers ``get_used_formats=1``: its meetings, and the formats they use."""
    meetings = json.loads((GNY / "GetSearchResults.json").read_bytes())
    used = {i.strip() for m in meetings for i in (m.get("format_shared_id_list") or "").split(",") if i.strip()}
    formats = [f for f in json.loads((GNY / "GetFormats.json").read_bytes()) if f["id"] in used]
    return json.dumps({"meetings": meetings, "formats": formats}).encode()


def extra_feeds(count: int):
    """``count`` Meeting Guide sources on hosts of their own, answered by the recorded feeds in turn."""
    from foundation.source import Source

    url = "https://feeds-{:04d}.example.org/wp-admin/admin-ajax.php?action=meetings"
    return [
        Source(id=f"extra-{n:04d}", name=f"extra {n}", fellowship="AA", kind="meeting_guide", url=url.format(n))
        for n in range(count)
    ]


def feed_file(source_id: str) -> str:
    """The recording that answers a Meeting Guide source: its own, or the recordings in turn for extra feeds."""
    files = sorted(FEEDS.values())
    return FEEDS.get(source_id) or files[int(source_id.rsplit("-", 1)[1]) % len(files)]


def routes(sources, bmlt_kind: str) -> dict[str, bytes]:
    """Original URL without scheme → recorded body."""
    from extractors import bmlt

    search = used_formats_envelope() if bmlt_kind == "modern" else (GNY / "GetSearchResults.json").read_bytes()
    answers = {"meetings": search, "formats": (GNY / "GetFormats.json").read_bytes(),
               "service_bodies": (GNY / "GetServiceBodies.json").read_bytes()}  # fmt: skip
    table: dict[str, bytes] = {}
    bodies = {name: (MG / name).read_bytes() for name in FEEDS.values()}
    for source in sources:
        if source.kind == "bmlt":
            for part, url in bmlt.urls(source.url).items():
                table[url.split("://", 1)[1]] = answers[part]
        else:
            table[source.url.split("://", 1)[1]] = bodies[feed_file(source.id)]
    return table


class Server:
    """Answers the rewritten URLs from ``table``, counting requests per original host."""

    def __init__(self, table: dict[str, bytes], latency_s: float):
        self.requests: Counter[str] = Counter()
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real sites
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                time.sleep(latency_s)
                original = self.path.lstrip("/")
                with lock:
                    server.requests[original.split("/", 1)[0]] += 1
                body = table.get(original)
                if body is None and original.endswith("/robots.txt"):
                    status, body, kind = 200, ROBOTS, "text/plain"
                else:
                    status, kind = (200, "application/json") if body is not None else (404, "text/plain")
                    body = body if body is not None else b"not recorded"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", kind)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-delay-s", type=float, default=1.0, help="per-host delay (CLEARINGHOUSE_MIN_DELAY_S)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="server think time per answer")
    parser.add_argument("--workers", type=int, default=None, help="hosts at once (CLEARINGHOUSE_FETCH_WORKERS)")
    parser.add_argument("--bmlt", choices=("modern", "legacy"), default="modern", help="how root servers answer")
    parser.add_argument("--extra-feeds", type=int, default=0, help="more Meeting Guide feeds, a host each")
    parser.add_argument("--skip-batches", action="store_true", help="skip the make-run (batches in turn) figure")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-live-"))
    os.environ.update(CLEARINGHOUSE_HOME=str(home / "run"), CLEARINGHOUSE_MIN_DELAY_S=str(args.min_delay_s),
                      CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES="true")  # fmt: skip
    if args.workers:
        os.environ["CLEARINGHOUSE_FETCH_WORKERS"] = str(args.workers)
    from clearinghouse.pipeline import fetch_all, fetch_batches, registry
    from foundation.settings import LIVE_SOURCES, settings

    sources = registry(LIVE_SOURCES) + extra_feeds(args.extra_feeds)
    workers = settings().fetch_workers
    server = Server(routes(sources, args.bmlt), args.latency_ms / 1000)
    os.environ["CLEARINGHOUSE_DEMO_URL"] = server.url

    started = time.monotonic()
    results = fetch_all(sources)
    wall = time.monotonic() - started
    counted = dict(server.requests)

    batches = fetch_batches(sources)
    batch_walls: list[float] = []
    if not args.skip_batches:
        os.environ["CLEARINGHOUSE_HOME"] = str(home / "batches")
        by_id = {s.id: s for s in sources}
        for batch in batches:
            started = time.monotonic()
            fetch_all([by_id[i] for i in batch])
            batch_walls.append(time.monotonic() - started)
    server.stop()

    kinds = Counter(s.kind for s in sources)
    hosts = {s.id: s.url.split("/")[2] for s in sources}
    per_kind = {kind: sorted(counted.get(hosts[s.id], 0) for s in sources if s.kind == kind) for kind in kinds}
    statuses = Counter(r["status"] for r in results)
    print(f"{len(sources)} sources ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}) on "
          f"{len(set(hosts.values()))} hosts; min delay {args.min_delay_s:g} s, latency {args.latency_ms:g} ms, "
          f"{workers} workers, BMLT servers {args.bmlt}")  # fmt: skip
    print(f"requests: {sum(counted.values())} (robots.txt included); per host: "
          + ", ".join(f"{k} {min(v)}–{max(v)} (median {statistics.median(v):g})" for k, v in sorted(per_kind.items()))
          + f"; statuses {dict(statuses)}")  # fmt: skip
    print(f"clearinghouse run fetch: {wall:.1f} s wall")
    if batch_walls:
        print(f"make run (airflow dags test: {len(batches)} mapped fetch batches of <= {workers} hosts, one after "
              f"another): {sum(batch_walls):.1f} s (per batch: min {min(batch_walls):.1f} s, max "
              f"{max(batch_walls):.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
