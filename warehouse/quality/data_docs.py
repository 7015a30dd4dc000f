"""The reports of a run under ``<home>/reports/``: Great Expectations Data Docs and the source scorecard,
each linking to the other."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from warehouse.quality import runner
from warehouse.quality.gate import quality_summary
from warehouse.quality.scorecard import scorecard_html

DATA_DOCS = "data_docs"
SCORECARD = "scorecard.html"


def build_reports(con: duckdb.DuckDBPyConnection, run_id: str, reports_dir: Path) -> dict[str, str]:
    """Render this run's validation results into Data Docs and write the scorecard; return both paths."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    index = runner.build_data_docs(runner.warehouse_home(con), reports_dir / DATA_DOCS)
    _link_scorecard(index, f"../{SCORECARD}")
    scorecard = reports_dir / SCORECARD
    html = scorecard_html(con, run_id, quality_summary(con, run_id), f"{DATA_DOCS}/index.html")
    scorecard.write_text(html)
    return {"data_docs": str(index), "scorecard": str(scorecard)}


def _link_scorecard(index: Path, href: str) -> None:
    """A banner at the top of the Data Docs index pointing at the scorecard (GX rewrites the page per build)."""
    page = index.read_text()
    banner = (
        '<div style="padding:.6rem 1.2rem;background:#eef4fb;border-bottom:1px solid #c9d9ec">'
        f'Which sources are sick? See the <a href="{href}"><b>source scorecard</b></a>.</div>'
    )
    index.write_text(re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + banner, page, count=1))
