"""Pins for the public map: released reports inside the visible box, clustered when many.

Built for speed: a column-only query on a covering index that starts with a coarse grid
cell (``Report.map_cell``), so a box reads only the reports of the few cells it touches; no
ORM objects; a hard cap on points.  When a box holds more reports than the cap, they are
shown per cell of a grid aligned to fixed cell sizes (about 12 cells across the box): the
counts of the cells in view come from ``map_cluster``, kept current on every write and
shared by all workers; a map filtered by category or status counts the box's reports.
"""

from __future__ import annotations

import math
from functools import cache

from flask import current_app
from sqlalchemy import BigInteger, Integer, bindparam, cast, func, select

from lotse.extensions import db
from mangel.models import (
    CLUSTER_BASE_DEG,
    CLUSTER_LEVELS,
    MAP_CELL_DEG,
    MapCluster,
    Report,
    add_to_clusters,
    cluster_cell,
    public_filter,
)

CELLS_ACROSS = 12  # aim for about this many cells across the visible box
MAX_LISTED_CELLS = 64  # a box wider than this many cells reads by latitude alone


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
    where = [public_filter()]
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
    '"properties":{"id":%s,"status":"%s","category":%s,"date":%s}}'
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
    # The popup's date as Unix seconds; the browser writes it in the town's time zone.
    if dialect == "postgresql":
        seconds = cast(func.floor(func.extract("epoch", Report.created_at)), BigInteger)
        feature, joined = func.format(POINT_SQL, *columns, seconds), func.string_agg
    else:
        seconds = cast(func.strftime("%s", Report.created_at), BigInteger)
        feature, joined = func.printf(POINT_SQL, *columns, seconds), func.group_concat
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


def _level(bbox: tuple[float, float, float, float]) -> int:
    """The cluster level whose cells are about a twelfth of the box."""
    west, south, east, north = bbox
    span = max(north - south, (east - west) * math.cos(math.radians((north + south) / 2)))
    level = math.ceil(math.log2(max(span / CELLS_ACROSS, CLUSTER_BASE_DEG) / CLUSTER_BASE_DEG))
    return min(max(0, level), CLUSTER_LEVELS - 1)


def _cell_range(bbox, level: int) -> tuple[int, int, int, int]:
    """First and last row and column of the level's cells the box touches."""
    west, south, east, north = bbox
    (r0, c0), (r1, c1) = cluster_cell(south, west), cluster_cell(north, east)
    return r0 >> level, r1 >> level, c0 >> level, c1 >> level


def _stored_cells(bbox, level: int) -> list[tuple[int, float, float]]:
    """``(count, lat_sum, lon_sum)`` of the stored cells in view (every public report)."""
    r0, r1, c0, c1 = _cell_range(bbox, level)
    table = MapCluster.__table__
    stmt = select(table.c.count, table.c.lat_sum, table.c.lon_sum).where(
        table.c.level == level,
        table.c.row.between(r0, r1),
        table.c.col.between(c0, c1),
        table.c.count > 0,
    )
    return list(db.session.connection().execute(stmt))


def _floor(value, dialect: str):
    """``floor(value)`` in SQL; SQLite may lack it: truncate, then step down below zero."""
    if dialect == "postgresql":
        return func.floor(value)
    return cast(value, Integer) - cast(value < cast(value, Integer), Integer)


def _counted_cells(bbox, level: int, category_id: int | None, status: str | None) -> list:
    """The same for a filtered map, counted from the reports in the box."""
    west, south, east, north = bbox
    cell = CLUSTER_BASE_DEG * 2**level
    dialect = db.engine.dialect.name
    row, col = _floor(Report.lat / cell, dialect), _floor(Report.lon / cell, dialect)
    stmt = (
        select(func.count(), func.sum(Report.lat), func.sum(Report.lon))
        .where(
            Report.lat.between(south, north),
            Report.lon.between(west, east),
            *_filters(bool(category_id), bool(status)),
        )
        .group_by(row, col)
    )
    params = {"category_id": category_id, "status": status}
    return list(db.session.connection().execute(stmt, params))


def _clusters(bbox, category_id: int | None, status: str | None) -> tuple[list[str], int]:
    """Cluster features of the box and the number of reports they hold."""
    west, south, east, north = bbox
    level = _level(bbox)
    if category_id or status:
        cells = _counted_cells(bbox, level, category_id, status)
    else:
        cells = _stored_cells(bbox, level)
    features, total = [], 0
    for count, lat_sum, lon_sum in cells:
        lat, lon = lat_sum / count, lon_sum / count
        if south <= lat <= north and west <= lon <= east:
            features.append(CLUSTER % (round(lon, 6), round(lat, 6), count))
            total += count
    return features, total


def rebuild_clusters(connection) -> int:
    """Count every public report into ``map_cluster`` afresh; returns the reports counted.

    For data written past the ORM (imports, the benchmark's bulk load); the web app keeps
    the counts current on its own.
    """
    dialect = connection.dialect.name
    row = _floor(Report.lat / CLUSTER_BASE_DEG, dialect)
    col = _floor(Report.lon / CLUSTER_BASE_DEG, dialect)
    stmt = (
        select(row, col, func.count(), func.sum(Report.lat), func.sum(Report.lon))
        .where(*_filters(False, False))
        .group_by(row, col)
    )
    counts = {(int(r), int(c)): [n, lat, lon] for r, c, n, lat, lon in connection.execute(stmt)}
    connection.execute(MapCluster.__table__.delete())
    add_to_clusters(connection, counts)
    return sum(n for n, _lat, _lon in counts.values())


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
    if cells is None or _level(bbox) > 0:
        # Zoomed out: the stored cluster counts tell whether the box holds too many reports for
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
