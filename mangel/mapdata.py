"""Pins for the public map: released reports inside the visible box, clustered when many.

Built for speed: plain column queries on a covering index, no ORM objects, a hard cap on
points.  When a box holds more reports than the cap, they are counted per cell of a grid
aligned to fixed cell sizes (about 12 cells across the box): small boxes count their own
rows, large ones read a grid of the whole town kept for a few seconds per worker.
"""

from __future__ import annotations

import math
import threading
import time
from functools import cache

from flask import current_app
from sqlalchemy import Integer, bindparam, cast, func, select

from lotse.extensions import db
from lotse.geo import town_boundary
from mangel.models import Report

BASE_CELL_DEG = 0.0005  # about 55 m: the finest grid
CELLS_ACROSS = 12  # aim for about this many cells across the visible box
# Boxes smaller than this share of the town are clustered from their own rows; larger ones
# from the cached grid of the whole town.
TOWN_SHARE_COUNTED_PER_BOX = 0.1

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


def _filters(by_category: bool, by_status: bool) -> list:
    where = [Report.confirmed_at.is_not(None)]
    if by_category:
        where.append(Report.category_id == bindparam("category_id"))
    if by_status:
        where.append(Report.status == bindparam("status"))
    return where


@cache
def _points_statement(by_category: bool, by_status: bool):
    """Built once per filter combination; only the bound values change between requests."""
    return (
        select(Report.id, Report.lat, Report.lon, Report.status, Report.category_id)
        .where(
            Report.lat.between(bindparam("south"), bindparam("north")),
            Report.lon.between(bindparam("west"), bindparam("east")),
            *_filters(by_category, by_status),
        )
        .limit(bindparam("limit"))
    )


def _cell_size(bbox: tuple[float, float, float, float]) -> float:
    west, south, east, north = bbox
    span = max(north - south, (east - west) * math.cos(math.radians((north + south) / 2)))
    level = max(0, math.ceil(math.log2(max(span / CELLS_ACROSS, BASE_CELL_DEG) / BASE_CELL_DEG)))
    return BASE_CELL_DEG * 2**level


def _grid(cell: float, category_id: int | None, status: str | None, box=None) -> dict:
    """Reports counted per grid cell: ``{(row, col): (lat, lon, count)}``.

    Without ``box`` the whole town is counted and kept for a few seconds per worker, so a
    zoomed-out map costs a lookup; a smaller box is counted on its own rows only.
    """
    key = (cell, category_id, status)
    ttl = current_app.config["MANGEL_CLUSTER_CACHE_SECONDS"]
    now = time.monotonic()
    cache = current_app.extensions.setdefault("mangel_grid_cache", {})
    if box is None:
        with _cache_lock:
            hit = cache.get(key)
            if ttl and hit and now - hit[0] < ttl:
                return hit[1]
    row, col = cast(Report.lat / cell, Integer), cast(Report.lon / cell, Integer)
    where = _filters(bool(category_id), bool(status))
    params = {"category_id": category_id, "status": status}
    if box is not None:
        west, south, east, north = box
        where += [Report.lat.between(south, north), Report.lon.between(west, east)]
    stmt = (
        select(row, col, func.avg(Report.lat), func.avg(Report.lon), func.count())
        .where(*where)
        .group_by(row, col)
    )
    cells = {
        (r, c): (lat, lon, count)
        for r, c, lat, lon, count in db.session.connection().execute(stmt, params)
    }
    if ttl and box is None:
        with _cache_lock:
            cache[key] = (now, cells)
    return cells


def _clusters(bbox, category_id: int | None, status: str | None) -> list[str]:
    west, south, east, north = bbox
    cell = _cell_size(bbox)
    town_west, town_south, town_east, town_north = town_boundary().bounds
    town_area = (town_east - town_west) * (town_north - town_south)
    # Count whole cells, so a cluster at the edge has the same count as in the town grid.
    box = (
        math.floor(west / cell) * cell,
        math.floor(south / cell) * cell,
        math.ceil(east / cell) * cell,
        math.ceil(north / cell) * cell,
    )
    small = (box[2] - box[0]) * (box[3] - box[1]) < TOWN_SHARE_COUNTED_PER_BOX * town_area
    grid = _grid(cell, category_id, status, box if small else None)
    # The database rounds or truncates to a cell number: look one cell further either way.
    rows = range(math.floor(south / cell) - 1, math.floor(north / cell) + 2)
    cols = range(math.floor(west / cell) - 1, math.floor(east / cell) + 2)
    features = []
    for r in rows:
        for c in cols:
            hit = grid.get((r, c))
            if hit and south <= hit[0] <= north and west <= hit[1] <= east:
                features.append(CLUSTER % (round(hit[1], 6), round(hit[0], 6), hit[2]))
    return features


# Written out by hand: several times faster than json.dumps of dicts for a few hundred pins.
# Every value is a number or a status code the database constrains to plain ASCII words.
POINT = (
    '{"type":"Feature","geometry":{"type":"Point","coordinates":[%r,%r]},'
    '"properties":{"id":%d,"status":"%s","category":%d}}'
)
CLUSTER = (
    '{"type":"Feature","geometry":{"type":"Point","coordinates":[%r,%r]},'
    '"properties":{"cluster":true,"count":%d}}'
)


def map_geojson(
    bbox: tuple[float, float, float, float], category_id: int | None, status: str | None
) -> str:
    """A GeoJSON FeatureCollection for the box: single pins, or clusters with a count."""
    west, south, east, north = bbox
    cap = current_app.config["MANGEL_MAP_MAX_POINTS"]
    stmt = _points_statement(bool(category_id), bool(status))
    params = {
        "south": south,
        "north": north,
        "west": west,
        "east": east,
        "limit": cap + 1,
        "category_id": category_id,
        "status": status,
    }
    rows = db.session.connection().execute(stmt, params).all()
    if len(rows) <= cap:
        features = [POINT % (lon, lat, id_, status_, cat) for id_, lat, lon, status_, cat in rows]
    else:
        features = _clusters(bbox, category_id, status)
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
