"""US counties by coordinates, offline: the county a point lies in, and how far a point is from a county.

``data/us_atlas_counties_10m.json`` is the county layer of us-atlas 3.0.1, unchanged: the Census Bureau's 2017
cartographic county boundaries (public domain) as TopoJSON, generalized to 1:10,000,000 and keyed by county
FIPS code (ISC licence, ``data/us_atlas_LICENSE.txt``; ``data/us_atlas.sh`` regenerates it and checks its
checksum). Generalized outlines are good to about a kilometre and cut off small islands and piers, so a point
outside every county takes the nearest one within ``NEAR_KM``. Shapes load once per process, on first use.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

NEAR_KM = 2.0
"""A point within this distance of a county it is not inside (the coast, an island, a generalized bend) is in it."""
EARTH_KM = 6371.0088


def _decode(topology: dict) -> dict[str, BaseGeometry]:
    """FIPS → geometry of every county of a TopoJSON topology (quantized, delta-encoded arcs)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        steps = np.cumsum(np.asarray(arc, dtype=float), axis=0)
        arcs.append(np.column_stack((steps[:, 0] * sx + tx, steps[:, 1] * sy + ty)))

    def ring(indexes: list[int]) -> np.ndarray:
        parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indexes]
        return np.concatenate([parts[0], *(p[1:] for p in parts[1:])])

    counties = {}
    for geometry in topology["objects"]["counties"]["geometries"]:
        polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry.get("arcs", [])
        shells = []
        for polygon in polygons:
            rings = [r for r in (ring(indexes) for indexes in polygon) if len(r) >= 4]  # quantization collapses some
            if rings:
                shells.append(Polygon(rings[0], rings[1:]))
        if shells:
            counties[geometry["id"]] = shapely.make_valid(MultiPolygon(shells))
    return counties


@cache
def county_shapes() -> tuple[tuple[str, ...], np.ndarray, shapely.STRtree]:
    """(FIPS codes, their geometries, a spatial index over them)."""
    path = resources.files("transforms").joinpath("data", "us_atlas_counties_10m.json")
    counties = _decode(json.loads(path.read_text(encoding="utf-8")))
    fips = tuple(sorted(counties))
    geometries = np.array([counties[f] for f in fips], dtype=object)
    shapely.prepare(geometries)
    return fips, geometries, shapely.STRtree(geometries)


@cache
def _index() -> dict[str, int]:
    return {f: i for i, f in enumerate(county_shapes()[0])}


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (longitude, latitude) points."""
    (lon1, lat1), (lon2, lat2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(h))


def distance_km(longitude: float, latitude: float, fips: Iterable[str]) -> float | None:
    """How far the point is from the nearest of the counties (0 inside one); ``None`` when none is known."""
    index, geometries = _index(), county_shapes()[1]
    point = shapely.Point(longitude, latitude)
    known = [geometries[index[f]] for f in fips if f in index]
    if not known:
        return None
    distances = []
    for geometry in known:
        if geometry.contains(point):
            return 0.0
        nearest = nearest_points(geometry, point)[0]
        distances.append(_km((longitude, latitude), (nearest.x, nearest.y)))
    return min(distances)


def counties_at(longitudes: Sequence[float], latitudes: Sequence[float]) -> list[str | None]:
    """The county FIPS code of each point (vectorized): the county it lies in, else the nearest within
    ``NEAR_KM``, else ``None`` (outside the US, or offshore)."""
    fips, geometries, tree = county_shapes()
    points = shapely.points(np.asarray(longitudes, dtype=float), np.asarray(latitudes, dtype=float))
    found: list[str | None] = [None] * len(points)
    point_index, county_index = tree.query(points, predicate="within")
    for p, c in zip(point_index.tolist(), county_index.tolist(), strict=True):
        found[p] = found[p] or fips[c]
    outside = [i for i, f in enumerate(found) if f is None]
    if outside:
        degrees = NEAR_KM / 111.0 / max(math.cos(math.radians(40.0)), 0.1)  # a generous box; km checked below
        near_points, near_counties = tree.query_nearest(points[outside], max_distance=degrees, all_matches=False)
        for p, c in zip(near_points.tolist(), near_counties.tolist(), strict=True):
            i = outside[p]
            nearest = nearest_points(geometries[c], points[i])[0]
            if _km((points[i].x, points[i].y), (nearest.x, nearest.y)) <= NEAR_KM:
                found[i] = fips[c]
    return found
