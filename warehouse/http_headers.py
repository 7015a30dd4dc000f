"""The HTTP headers a published file is served with, wherever it is served: ``clearinghouse serve`` and the
bucket mirror (``warehouse.objectstore``) send the same Content-Type and Cache-Control (the ``datasets``
nginx service's configuration, ``deploy/nginx/datasets.conf``, says the same in its own words)."""

from __future__ import annotations

CONTENT_TYPES = {
    ".parquet": "application/vnd.apache.parquet",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".geojson": "application/geo+json",
    ".html": "text/html; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
IMMUTABLE = "public, max-age=31536000, immutable"  # a release id never names other bytes
REVALIDATE = "no-cache"  # `latest` and the index move: always revalidate (a 304 when unchanged)
