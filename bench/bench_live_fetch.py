"""How long the fetch of a live night takes at the politeness settings: the live registry's real URLs, answered
from loopback.

Every URL of ``sources/live/`` is served by a local server through the client's demo rewrite, so the client
keeps each source's real host (its per-host lock, lease and ``CLEARINGHOUSE_MIN_DELAY_S`` between requests)
while the bytes come from recordings: a BMLT root server answers as the Greater New York Region's export
(1,555 meetings; its three API calls), a Meeting Guide feed as its demo recording. ``--latency-ms`` adds a
server's think time to every answer (robots.txt included). What it cannot show: real servers' speed and
bandwidth, which add to every request.

Two figures: the fetch as ``clearinghouse run`` does it (``--workers`` hosts at once, one request at a time
per host), and the sum of the per-source fetch times, which is what ``make run`` pays: ``airflow dags test``
runs the mapped fetch tasks one after another.

    python bench/bench_live_fetch.py [--min-delay-s 1] [--latency-ms 0] [--workers 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from datetime import datetime
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


def routes(sources) -> dict[str, Path]:
    """Original URL without scheme → recorded body."""
    from extractors import bmlt

    table: dict[str, Path] = {}
    for source in sources:
        if source.kind == "bmlt":
            for switcher in bmlt.SWITCHERS.values():
                table[bmlt.endpoint(source.url, switcher).split("://", 1)[1]] = GNY / f"{switcher}.json"
        else:
            table[source.url.split("://", 1)[1]] = MG / FEEDS[source.id]
    return table


def serve(table: dict[str, Path], latency_s: float) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(latency_s)
            original = self.path.lstrip("/")
            path = table.get(original)
            body = path.read_bytes() if path else (b"User-agent: *\nAllow: /\n" if original.endswith("/robots.txt")
                                                   else b"not recorded")  # fmt: skip
            self.send_response(200 if path or original.endswith("/robots.txt") else 404)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Type", "application/json" if path else "text/plain")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-delay-s", type=float, default=1.0, help="per-host delay (CLEARINGHOUSE_MIN_DELAY_S)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="server think time per answer")
    parser.add_argument("--workers", type=int, default=8, help="hosts fetched at once (clearinghouse run's default)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-live-"))
    os.environ.update(CLEARINGHOUSE_HOME=str(home), CLEARINGHOUSE_MIN_DELAY_S=str(args.min_delay_s),
                      CLEARINGHOUSE_ALLOW_PRIVATE_ADDRESSES="true")  # fmt: skip
    from clearinghouse.pipeline import fetch_all, registry
    from foundation.settings import LIVE_SOURCES

    sources = registry(LIVE_SOURCES)
    server, os.environ["CLEARINGHOUSE_DEMO_URL"] = serve(routes(sources), args.latency_ms / 1000)
    started = time.monotonic()
    results = fetch_all(sources, workers=args.workers)
    wall = time.monotonic() - started
    server.shutdown()
    spans = [
        (datetime.fromisoformat(r["finished_at"]) - datetime.fromisoformat(r["started_at"])).total_seconds()
        for r in results
    ]
    requests = sum(len(r["parts"]) for r in results) + len({s.url.split("/")[2] for s in sources})
    statuses = sorted({r["status"] for r in results})
    print(f"{len(sources)} sources on {len({s.url.split('/')[2] for s in sources})} hosts, {requests} requests "
          f"(robots.txt included), statuses {statuses}; min delay {args.min_delay_s:g} s, latency "
          f"{args.latency_ms:g} ms, {args.workers} workers")  # fmt: skip
    print(f"clearinghouse run fetch: {wall:.1f} s wall")
    print(f"make run (airflow dags test, one fetch task at a time): {sum(spans):.1f} s of fetch tasks "
          f"(per source: min {min(spans):.1f} s, max {max(spans):.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
