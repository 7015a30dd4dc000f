"""Regions: the areas releases are cut into (``regions/*.yaml``), and which meetings fall in each.

A region file holds a list under ``regions:``; each region has an ``id`` (slug, names its files), a ``name``
and one or more rules — a meeting belongs to the region when any rule holds:

- ``states``: state or province codes (``region_code``) in the region's ``country`` (default US);
- ``counties``: US county FIPS codes (5 digits); a meeting's county comes from its ZIP code, offline (the
  ``zipcodes`` package's county name, matched to ``transforms/data/us_counties.csv``);
- ``zips``: postal codes;
- ``polygon``: a GeoJSON file beside the YAML (Polygon or MultiPolygon, bare or in a Feature or
  FeatureCollection); meetings whose coordinates fall inside (shapely, vectorized);
- ``online: true``: online-only meetings (``attendance`` online).

A meeting belongs to every region it falls in, so an online meeting that carries a home address is in the
online region and in its home region. Unknown keys and bad values are errors naming the file, region and key.

``us_counties.csv``: US Census Bureau county FIPS codes (2020; US government work, public domain) with the
alternative names the Census file lists, plus the two Alaska census areas created in 2019 and the Alaska
names the ZIP table spells differently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import shapely
import yaml
import zipcodes
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from transforms.gazetteer import county_codes, county_key
from transforms.refdata import data_rows


class RegionError(ValueError):
    pass


class Region(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    states: tuple[str, ...] = ()
    counties: tuple[str, ...] = ()
    zips: tuple[str, ...] = ()
    polygon: Path | None = None
    """Absolute path of the GeoJSON file (the loader resolves it against the YAML's folder)."""
    online: bool = False

    @field_validator("states")
    @classmethod
    def _states(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [s for s in value if not re.fullmatch(r"[A-Za-z]{2}", s)]
        if bad:
            raise ValueError(f"state codes have two letters: {bad}")
        return tuple(s.upper() for s in value)

    @field_validator("counties")
    @classmethod
    def _counties(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in value if not re.fullmatch(r"\d{5}", c)]
        if bad:
            raise ValueError(f"county FIPS codes have five digits (state + county, quoted in YAML): {bad}")
        return value

    @field_validator("zips")
    @classmethod
    def _zips(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [z for z in value if not re.fullmatch(r"[0-9A-Za-z -]{3,10}", z)]
        if bad:
            raise ValueError(f"not postal codes: {bad}")
        return value

    @model_validator(mode="after")
    def _has_rule(self) -> Region:
        if not (self.states or self.counties or self.zips or self.polygon or self.online):
            raise ValueError("a region needs at least one of states, counties, zips, polygon, online")
        return self

    def geometry(self) -> BaseGeometry | None:
        return _geometry(self.polygon) if self.polygon else None


@cache
def _geometry(path: Path) -> BaseGeometry:
    data = json.loads(path.read_text())
    features = data.get("features") or [data]
    geometries = [shape(f.get("geometry", f)) for f in features]
    bad = {g.geom_type for g in geometries} - {"Polygon", "MultiPolygon"}
    if bad or not geometries:
        raise ValueError(f"{path.name}: expected Polygon or MultiPolygon geometries, found {sorted(bad) or 'none'}")
    geometry = shapely.union_all(geometries)
    shapely.prepare(geometry)
    return geometry


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
    return [path]


def _region(file: Path, item: Any) -> Region:
    rid = item.get("id", "?") if isinstance(item, dict) else "?"
    if not isinstance(item, dict):
        raise RegionError(f"{file}: each entry of regions: must be a mapping, got {item!r}")
    data = dict(item)
    if isinstance(data.get("polygon"), str):
        data["polygon"] = (file.parent / data["polygon"]).resolve()
    try:
        region = Region.model_validate(data)
        region.geometry()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'region'}: {e['msg']}" for e in exc.errors())
        raise RegionError(f"{file}: region {rid!r}: {problems}") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RegionError(f"{file}: region {rid!r}: polygon: {exc}") from None
    return region


def load_regions(path: Path) -> list[Region]:
    """Every region of a YAML file or of the ``*.yaml`` files of a folder (none when the path is missing)."""
    if not path.exists():
        return []
    regions: dict[str, tuple[Region, Path]] = {}
    for file in _files(path):
        document = yaml.safe_load(file.read_text()) or {}
        if not isinstance(document, dict) or set(document) - {"regions"}:
            raise RegionError(f"{file}: expected a mapping with one key, regions:")
        for item in document.get("regions") or []:
            region = _region(file, item)
            if region.id in regions:
                raise RegionError(f"{file}: region {region.id!r}: id already defined in {regions[region.id][1]}")
            regions[region.id] = (region, file)
    return [r for r, _ in regions.values()]


# --- counties ----------------------------------------------------------------------------------------------


@cache
def county_tables() -> tuple[pa.Table, pa.Table]:
    """(counties: fips, state, name — the first name listed per code), (ZIP code → county FIPS)."""
    counties: dict[str, tuple[str, str]] = {}
    for row in data_rows("us_counties.csv"):
        counties.setdefault(row["fips"], (row["state"], row["name"]))
    codes = county_codes()
    zips = {
        z["zip_code"]: fips
        for z in zipcodes.list_all()
        if z["county"] and (fips := codes.get(county_key(z["state"], z["county"])))
    }
    return (
        pa.table({"fips": list(counties), "state": [s for s, _ in counties.values()],
                  "name": [n for _, n in counties.values()]}),
        pa.table({"postal_code": list(zips), "fips": list(zips.values())}),
    )  # fmt: skip


def ensure_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Fill ``ref.us_counties`` and ``ref.us_zip_counties`` once (both ship with the code)."""
    if con.sql("SELECT count(*) FROM ref.us_counties").fetchall()[0][0]:
        return
    counties, zips = county_tables()
    con.register("ref_counties", counties)
    con.register("ref_zips", zips)
    try:
        con.execute("INSERT INTO ref.us_counties SELECT * FROM ref_counties")
        con.execute("INSERT INTO ref.us_zip_counties SELECT * FROM ref_zips")
    finally:
        con.unregister("ref_counties")
        con.unregister("ref_zips")


# --- assignment --------------------------------------------------------------------------------------------

RULES_SQL = """
SELECT m.meeting_id, r.region_id FROM core.meetings m
JOIN region_rules r ON r.kind = 'state' AND upper(m.region_code) = r.value AND coalesce(m.country, 'US') = r.country
UNION ALL
SELECT m.meeting_id, r.region_id FROM core.meetings m
JOIN region_rules r
  ON r.kind = 'zip' AND upper(m.postal_code) = upper(r.value) AND coalesce(m.country, 'US') = r.country
UNION ALL
SELECT m.meeting_id, r.region_id FROM core.meetings m
JOIN ref.us_zip_counties z ON z.postal_code = m.postal_code
JOIN region_rules r ON r.kind = 'county' AND r.value = z.fips
WHERE coalesce(m.country, 'US') = 'US'
UNION ALL
SELECT m.meeting_id, r.region_id FROM core.meetings m
JOIN region_rules r ON r.kind = 'online' AND m.attendance = 'online'
"""


def _rules(regions: Iterable[Region]) -> pa.Table:
    rows = [
        (r.id, kind, r.country, value)
        for r in regions
        for kind, values in (("state", r.states), ("county", r.counties), ("zip", r.zips),
                             ("online", ("",) if r.online else ()))
        for value in values
    ]  # fmt: skip
    names = ("region_id", "kind", "country", "value")
    return pa.table({n: pa.array([row[i] for row in rows], pa.string()) for i, n in enumerate(names)})


def _inside(con: duckdb.DuckDBPyConnection, region_id: str, geometry: BaseGeometry) -> pa.Table:
    """Meetings whose coordinates fall in the polygon (bounding box in SQL, then shapely, vectorized)."""
    west, south, east, north = geometry.bounds
    candidates = con.sql(
        "SELECT meeting_id, longitude, latitude FROM core.meetings "
        "WHERE latitude BETWEEN $south AND $north AND longitude BETWEEN $west AND $east",
        params={"south": south, "north": north, "west": west, "east": east},
    ).to_arrow_table()
    mask = shapely.contains_xy(geometry, candidates["longitude"].to_numpy(), candidates["latitude"].to_numpy())
    inside = candidates["meeting_id"].filter(pa.array(mask))
    return pa.table({"meeting_id": inside, "region_id": pa.array([region_id] * len(inside), pa.string())})


def assign(con: duckdb.DuckDBPyConnection, regions: list[Region]) -> dict[str, int]:
    """Rebuild ``core.meeting_regions`` from ``core.meetings``; return the meetings per region."""
    ensure_reference(con)
    polygons = [_inside(con, r.id, geometry) for r in regions if (geometry := r.geometry()) is not None]
    found = pa.concat_tables(polygons) if polygons else pa.table({"meeting_id": pa.array([], pa.string()),
                                                                  "region_id": pa.array([], pa.string())})  # fmt: skip
    con.register("region_rules", _rules(regions))
    con.register("region_polygons", found)
    try:
        con.execute("BEGIN")
        try:
            con.execute("DELETE FROM core.meeting_regions")
            con.execute(
                f"INSERT INTO core.meeting_regions SELECT DISTINCT meeting_id, region_id FROM ({RULES_SQL} "
                "UNION ALL SELECT meeting_id, region_id FROM region_polygons)"
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister("region_rules")
        con.unregister("region_polygons")
    counts = dict(con.sql("SELECT region_id, count(*) FROM core.meeting_regions GROUP BY region_id").fetchall())
    return {r.id: counts.get(r.id, 0) for r in regions}
