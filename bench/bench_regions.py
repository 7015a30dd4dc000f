"""Regional feeds of a release as apps and operators see them: completeness, New York City, labels.

Reads a release (default ``$CLEARINGHOUSE_HOME/published/latest``; ``--release DIR`` another one, e.g. a
saved earlier release) and prints: US meetings with a state that are in no regional feed, meetings in no
feed at all; the meetings whose city is a New York City borough and how many ``new-york-city`` holds; how
much of that feed is labelled by borough; the meetings whose own coordinates lie in the city (county outlines,
``transforms.county_shapes``) and whether the feed holds them; the two Westchester meetings geocoded into the
city; the region filter an app builds from the whole feed; meetings per region. ``make bench-regions``.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path

import duckdb

from transforms.county_shapes import counties_at

HOME = Path(os.environ.get("CLEARINGHOUSE_HOME", "data"))
NYC = "new-york-city"
NYC_COUNTIES = {"36005", "36047", "36061", "36081", "36085"}
BOROUGH_CITIES = ("New York", "Manhattan", "Brooklyn", "Bronx", "Queens", "Staten Island")
BOROUGHS = {"Manhattan", "Bronx", "Brooklyn", "Queens", "Staten Island"}
WESTCHESTER = (("311 Huguenot St", "10801"), ("55 Parkway Dr", "10573"))
"""New Rochelle and Port Chester: the address is in Westchester County, the source's point inside the city."""


def _share(part: int, whole: int) -> str:
    return f"{part:,} of {whole:,} ({part / whole:.1%})" if whole else "0 of 0"


def _filter(items: list[dict]) -> tuple[int, int]:
    """(top-level entries, all entries) of the region filter TSML UI builds from a feed (``regions``, else
    ``region`` > ``sub_region``, else ``city``)."""
    paths = set()
    for item in items:
        path = item.get("regions") or [x for x in (item.get("region"), item.get("sub_region")) if x]
        path = path or ([item["city"]] if item.get("city") else [])
        paths |= {tuple(path[: i + 1]) for i in range(len(path))}
    return len({p for p in paths if len(p) == 1}), len(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", type=Path, default=HOME / "published" / "latest")
    release = parser.parse_args().release.resolve()
    con = duckdb.connect()
    con.execute(f"CREATE VIEW m AS SELECT * FROM read_parquet('{release / 'meetings.parquet'}')")
    q = lambda sql: con.sql(sql).fetchall()  # noqa: E731
    print(f"release {release.name}")

    (us_state, outside), = q("SELECT count(*), count(*) FILTER (WHERE len(regions) = 0) FROM m "
                            "WHERE coalesce(country, 'US') = 'US' AND region_code IS NOT NULL")  # fmt: skip
    ((everyone, nowhere),) = q("SELECT count(*), count(*) FILTER (WHERE len(regions) = 0) FROM m")
    print(f"US meetings with a state outside every regional feed: {_share(outside, us_state)}")
    print(f"meetings in no regional feed at all: {_share(nowhere, everyone)}")

    cities = ", ".join(f"'{c}'" for c in BOROUGH_CITIES)
    (boroughs, held), = q(f"SELECT count(*), count(*) FILTER (WHERE list_contains(regions, '{NYC}')) FROM m "
                         f"WHERE region_code = 'NY' AND city IN ({cities})")  # fmt: skip
    print(f"meetings whose city is a borough in {NYC}: {_share(held, boroughs)}")
    feed = json.loads((release / "meeting-guide" / f"{NYC}.json").read_text())
    labelled = sum(1 for item in feed if item.get("region") in BOROUGHS)
    print(f"{NYC} feed labelled by borough: {_share(labelled, len(feed))}")
    print(f"  its region values: {Counter(i.get('region') for i in feed).most_common(8)}")
    print(
        f"  its sub_region values: {len({i.get('sub_region') for i in feed if i.get('sub_region')})} distinct, "
        f"e.g. {[s for s, _ in Counter(i.get('sub_region') for i in feed if i.get('sub_region')).most_common(8)]}"
    )

    points = q(
        "SELECT meeting_id, longitude, latitude, postal_code, list_contains(regions, $nyc), "
        "address_line FROM m WHERE coordinates_source = 'source'".replace("$nyc", f"'{NYC}'")
    )
    counties = counties_at([p[1] for p in points], [p[2] for p in points])
    inside = [p for p, c in zip(points, counties, strict=True) if c in NYC_COUNTIES]
    no_zip = [p for p in inside if not (p[3] or "").isdigit()]
    print(
        f"meetings whose source coordinates lie in the city, in {NYC}: {_share(sum(p[4] for p in inside), len(inside))}"
        f"; of them without a ZIP code: {_share(sum(p[4] for p in no_zip), len(no_zip))}"
    )
    for address, postal in WESTCHESTER:
        rows = q(f"SELECT list_contains(regions, '{NYC}'), regions, geo_precision FROM m "
                 f"WHERE address_line = '{address}' AND postal_code = '{postal}'")  # fmt: skip
        print(
            f"  {address} {postal}: " + "; ".join(f"in {NYC}: {r[0]}, regions {r[1]}, precision {r[2]}" for r in rows)
        )

    whole = json.loads((release / "meeting-guide.json").read_text())
    top, entries = _filter(whole)
    print(f"region filter of the whole feed (TSML UI): {top} top-level entries, {entries} in all")
    if "region_evidence" in con.sql("SELECT * FROM m LIMIT 0").columns:
        evidence = q("SELECT coalesce(region_evidence, 'none'), count(*) FROM m GROUP BY 1 ORDER BY 2 DESC")
        print(f"region_evidence: {dict(evidence)}")
        print(f"coordinates contradicting the address: {q('SELECT count(*) FROM m WHERE coordinates_conflict')[0][0]}")
    manifest = json.loads((release / "manifest.json").read_text())
    print("meetings per region:")
    for region, n in sorted(manifest["counts"]["regions"].items()):
        print(f"  {region:24} {n:6,}")


if __name__ == "__main__":
    main()
