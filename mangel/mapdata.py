"""Pins for the public map: released reports inside the visible box, clustered when many.

Built for speed: a column-only query on a covering index that starts with a coarse grid
cell (``Report.map_cell``), so a box reads only the reports of the few cells it touches; no
ORM objects; a hard cap on points.  When a box holds more reports than the cap, they are
counted per cell of a grid aligned to fixed cell sizes (about 12 cells across the box),
computed for the whole town and kept for a few seconds per worker.
"""

from __future__ import annotations

import math
import threading
import time
from functools import cache

from flask import current_app
from sqlalchemy import Integer, bindparam, cast, func, select

from lotse.extensions import db
from mangel.models import MAP_CELL_DEG, Report
from mangel.services import public_condition

BASE_CELL_DEG = 0.0005  # about 55 m: the finest grid
CELLS_ACROSS = 12  # aim for about this many cells across the visible box
MAX_LISTED_CELLS = 64  # a box wider than this many cells reads by latitude alone

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
    where = [public_condition()]
    if by_category:
        where.append(Report.category_id == bindparam("category_id"))
    if by_status:
        where.append(Report.status == bindparam("status"))
    return where


# One pin as GeoJSON, written by the database itself (SQLite printf, PostgreSQL format):
# a box's pins arrive as one string instead of rows to convert one by one in Python.
# Every value is a number or a status code the database constrains to plain ASCII words.
POINT_SQL = (
    '{"type":"Feature","geometry":{"type":"Point","coordinates":[%s,%s]},'
    '"properties":{"id":%s,"status":"%s","category":%s}}'
)


@cache
def _points_statement(dialect: str, by_category: bool, by_status: bool, by_cells: bool):
    """``(count, pins joined by commas)`` of at most ``limit`` pins in the box.

    Built once per database and filter combination; only bound values change per request.
    """
    where = [
        Report.lat.between(bindparam("south"), bindparam("north")),
        Report.lon.between(bindparam("west"), bindparam("east")),
        *_filters(by_category, by_status),
    ]
    if by_cells:
        where.insert(0, Report.map_cell.in_(bindparam("cells", expanding=True)))
    columns = (Report.lon, Report.lat, Report.id, Report.status, Report.category_id)
    if dialect == "postgresql":
        feature, joined = func.format(POINT_SQL, *columns), func.string_agg
    else:
        feature, joined = func.printf(POINT_SQL, *columns), func.group_concat
    pins = select(feature.label("pin")).where(*where).limit(bindparam("limit")).subquery()
    return select(func.count(), joined(pins.c.pin, ","))


def _map_cells(bbox: tuple[float, float, float, float]) -> list[int] | None:
    """The grid cells a box touches, or ``None`` when there are too many to list."""
    west, south, east, north = bbox
    step = MAP_CELL_DEG
    rows = range(math.floor((south + 90) / step), math.floor((north + 90) / step) + 1)
    cols = range(math.floor((west + 180) / step), math.floor((east + 180) / step) + 1)
    if len(rows) * len(cols) > MAX_LISTED_CELLS:
        return None
    return [r * 100_000 + c for r in rows for c in cols]


def _cell_size(bbox: tuple[float, float, float, float]) -> float:
    west, south, east, north = bbox
    span = max(north - south, (east - west) * math.cos(math.radians((north + south) / 2)))
    level = max(0, math.ceil(math.log2(max(span / CELLS_ACROSS, BASE_CELL_DEG) / BASE_CELL_DEG)))
    return BASE_CELL_DEG * 2**level


def _grid(cell: float, category_id: int | None, status: str | None) -> dict:
    """The town's reports per grid cell: ``{(row, col): (lat, lon, count, feature)}``.

    Kept for a few seconds per worker, so a zoomed-out map costs a lookup, not a scan.
    """
    key = (cell, category_id, status)
    ttl = current_app.config["MANGEL_CLUSTER_CACHE_SECONDS"]
    now = time.monotonic()
    cache = current_app.extensions.setdefault("mangel_grid_cache", {})
    with _cache_lock:
        hit = cache.get(key)
        if ttl and hit and now - hit[0] < ttl:
            return hit[1]
    row, col = cast(Report.lat / cell, Integer), cast(Report.lon / cell, Integer)
    stmt = (
        select(row, col, func.avg(Report.lat), func.avg(Report.lon), func.count())
        .where(*_filters(bool(category_id), bool(status)))
        .group_by(row, col)
    )
    params = {"category_id": category_id, "status": status}
    cells = {
        (r, c): (lat, lon, count, CLUSTER % (round(lon, 6), round(lat, 6), count))
        for r, c, lat, lon, count in db.session.connection().execute(stmt, params)
    }
    if ttl:
        with _cache_lock:
            cache[key] = (now, cells)
    return cells


def _clusters(bbox, category_id: int | None, status: str | None) -> tuple[list[str], int]:
    """Cluster features of the box and the number of reports they hold."""
    west, south, east, north = bbox
    cell = _cell_size(bbox)
    grid = _grid(cell, category_id, status)
    # The database rounds or truncates to a cell number: look one cell further either way.
    rows = range(math.floor(south / cell) - 1, math.floor(north / cell) + 2)
    cols = range(math.floor(west / cell) - 1, math.floor(east / cell) + 2)
    features, total = [], 0
    for r in rows:
        for c in cols:
            hit = grid.get((r, c))
            if hit and south <= hit[0] <= north and west <= hit[1] <= east:
                features.append(hit[3])
                total += hit[2]
    return features, total


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
    cells = _map_cells(bbox)
    clusters = None
    if cells is None or _cell_size(bbox) > BASE_CELL_DEG:
        # Zoomed out: the cached grid tells whether the box holds too many reports for
        # pins, which spares reading them from the index only to count them.
        clusters, total = _clusters(bbox, category_id, status)
        if total > cap:
            return _collection(clusters)
    stmt = _points_statement(
        db.engine.dialect.name, bool(category_id), bool(status), cells is not None
    )
    params = {
        "cells": cells,
        "south": south,
        "north": north,
        "west": west,
        "east": east,
        "limit": cap + 1,
        "category_id": category_id,
        "status": status,
    }
    count, pins = db.session.connection().execute(stmt, params).one()
    if count <= cap:
        return _collection([pins] if pins else [])
    return _collection(
        clusters if clusters is not None else _clusters(bbox, category_id, status)[0]
    )


def _collection(features: list[str]) -> str:
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
