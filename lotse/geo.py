"""The town's boundary and simple geometry shared by both services."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

from flask import current_app
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union
from shapely.prepared import PreparedGeometry, prep

EARTH_RADIUS_M = 6_371_000


def geometry_from_geojson(data: dict) -> BaseGeometry:
    """One geometry from a GeoJSON Feature, FeatureCollection or bare geometry."""
    kind = data.get("type")
    if kind == "FeatureCollection":
        return unary_union([shape(f["geometry"]) for f in data["features"]])
    if kind == "Feature":
        return shape(data["geometry"])
    return shape(data)


@lru_cache(maxsize=8)
def _load_boundary(path: str, mtime: float) -> tuple[BaseGeometry, PreparedGeometry]:
    geometry = geometry_from_geojson(json.loads(Path(path).read_text(encoding="utf-8")))
    return geometry, prep(geometry)


def _boundary() -> tuple[BaseGeometry, PreparedGeometry]:
    """The configured boundary, reloaded when its file changes."""
    path = current_app.config["TOWN_BOUNDARY_FILE"]
    return _load_boundary(path, Path(path).stat().st_mtime)


def town_boundary() -> BaseGeometry:
    return _boundary()[0]


def in_town(lat: float, lon: float) -> bool:
    """Whether a point lies inside the configured town boundary."""
    return _boundary()[1].covers(Point(lon, lat))


def town_bounds() -> list[list[float]]:
    """[[south, west], [north, east]] of the boundary, the shape Leaflet wants."""
    west, south, east, north = town_boundary().bounds
    return [[south, west], [north, east]]


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))
