"""Pins for the public map: released reports inside the visible box, clustered when many.

Built for speed: plain column queries on the indexed ``lat``/``lon`` columns, no ORM
objects, a hard cap on points.  When a box holds more reports than the cap, they are
counted per cell of a grid aligned to fixed cell sizes, so the same few grids serve
every box; a grid of the whole town is kept for a few seconds per worker.
"""

from __future__ import annotations

import json
import math
import threading
import time

from flask import current_app
from sqlalchemy import Integer, cast, func, select

from lotse.extensions import db
from mangel.models import Report

BASE_CELL_DEG = 0.0005  # about 55 m: the finest grid
CELLS_ACROSS = 12  # aim for about this many cells across the visible box

_cache_lock = threading.Lock()


def parse_bbox(text: str) -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` as Leaflet's ``toBBoxString`` writes it, or ``None``."""
    try:
        west, south, east, north = (float(part) for part in text.split(","))
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        return None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        return None
    return west, south, east, north


def _filters(category_id: int | None, status: str | None) -> list:
    where = [Report.confirmed_at.is_not(None)]
    if category_id:
        where.append(Report.category_id == category_id)
    if status:
        where.append(Report.status == status)
    return where


def _cell_size(bbox: tuple[float, float, float, float]) -> float:
    west, south, east, north = bbox
    span = max(north - south, (east - west) * math.cos(math.radians((north + south) / 2)))
    level = max(0, math.ceil(math.log2(max(span / CELLS_ACROSS, BASE_CELL_DEG) / BASE_CELL_DEG)))
    return BASE_CELL_DEG * 2**level


def _grid(cell: float, category_id: int | None, status: str | None) -> list:
    """Cells of the whole town as ``(lat, lon, count)``, cached for a few seconds."""
    key = (cell, category_id, status)
    ttl = current_app.config["MANGEL_CLUSTER_CACHE_SECONDS"]
    now = time.monotonic()
    cache = current_app.extensions.setdefault("mangel_grid_cache", {})
    with _cache_lock:
        hit = cache.get(key)
        if ttl and hit and now - hit[0] < ttl:
            return hit[1]
    lat_cell = cast(Report.lat / cell, Integer)
    lon_cell = cast(Report.lon / cell, Integer)
    stmt = (
        select(func.avg(Report.lat), func.avg(Report.lon), func.count())
        .where(*_filters(category_id, status))
        .group_by(lat_cell, lon_cell)
    )
    cells = [tuple(row) for row in db.session.execute(stmt)]
    if ttl:
        with _cache_lock:
            cache[key] = (now, cells)
    return cells


def map_geojson(
    bbox: tuple[float, float, float, float], category_id: int | None, status: str | None
) -> str:
    """A GeoJSON FeatureCollection for the box: single pins, or clusters with a count."""
    west, south, east, north = bbox
    cap = current_app.config["MANGEL_MAP_MAX_POINTS"]
    stmt = (
        select(Report.id, Report.lat, Report.lon, Report.status, Report.category_id)
        .where(
            Report.lat.between(south, north),
            Report.lon.between(west, east),
            *_filters(category_id, status),
        )
        .limit(cap + 1)
    )
    rows = db.session.execute(stmt).all()
    if len(rows) <= cap:
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"id": id_, "status": status_, "category": category},
            }
            for id_, lat, lon, status_, category in rows
        ]
    else:
        cells = _grid(_cell_size(bbox), category_id, status)
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                "properties": {"cluster": True, "count": count},
            }
            for lat, lon, count in cells
            if south <= lat <= north and west <= lon <= east
        ]
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
