"""Pins for the public map: released reports inside the visible box, clustered when many.

Built for speed: a column-only query on a covering index that starts with a coarse grid
cell (``Report.map_cell``), so a box reads only the reports of the few cells it touches; no
ORM objects; a hard cap on points.  When a box holds more reports than the cap, they are
shown per cell of a grid aligned to fixed cell sizes (about a dozen cells across the box):
the counts of the cells in view come from ``map_cluster``, kept current on every write and
shared by all workers; a map filtered by category or status counts the box's reports.

Shareable answers: every box is widened to whole cells of the grid its clusters use
(``map_view``), and the map script asks for boxes widened the same way, so phones looking
at nearly the same place ask for the same few URLs.  A reverse proxy, and ``map_answer``'s
kept answers (under the generation of public data: a committed change shows at once), can
answer them again.  Pins just outside the visible area but inside the widened box cost
the map nothing.  The unfiltered answer is decided from the stored counts of the widened
box's cells, which hold exactly its reports.

Kept answers follow the places written, not every write: the land is cut into regions of
three fixed grids (about 900 × 550 m, 3.6 × 2.2 km and 14 × 9 km), each region with its
own generation (``lotse.cache``), and a committed write of a report bumps the regions of
its old and new place only (``report_regions``).  An answer is kept under the generations of
the few regions its box touches, so a map of one street is not built again because a
report across town changed.
"""

from __future__ import annotations

import math
from functools import cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import BigInteger, Integer, Numeric, bindparam, cast, func, select
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, get_history

from lotse.cache import cached_for_all
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

CELLS_ACROSS = 13  # at most this many cells of the chosen grid across the widened box
MAX_LISTED_CELLS = 64  # a box wider than this many cells reads by latitude alone
# Grid edges travel as decimals (``6.5185``): read back, ``6.5185 / 0.0005`` may come out a
# hair below 13037.  A box this close to an edge is on it, so widening it is idempotent.
EDGE_SLACK = 1e-9

# Generations of kept map answers (``lotse.cache``).  Every answer is kept under
# MAP_GENERATION: category writes, ORM bulk statements on reports and writes past the ORM
# (``rebuild_clusters``, imports: call ``lotse.cache.bump(MAP_GENERATION)`` after the
# commit) renew them all.  Besides, under the generations of the regions of the finest
# region grid of which the box touches at most MAX_REGIONS, or MAP_WIDE_GENERATION when it
# touches more of the coarsest; every report write bumps that.
MAP_GENERATION = "mangel.map"
MAP_WIDE_GENERATION = "mangel.map.wide"
REGION_LEVELS = (4, 6, 8)  # regions are cells of these cluster levels: 0.008°, 0.032°, 0.128°
MAX_REGIONS = 16
REGION_SLACK = 1e-7  # about 1 cm: a report on a region's edge bumps both sides


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


class MapView(NamedTuple):
    """A box widened to whole cells of one cluster grid: rows ``south``…``north - 1`` and
    columns ``west``…``east - 1`` of level ``level`` (cells of ``CLUSTER_BASE_DEG * 2**level``)."""

    level: int
    west: int
    south: int
    east: int
    north: int

    @property
    def cell(self) -> float:
        return CLUSTER_BASE_DEG * 2**self.level

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        cell = self.cell
        return (
            max(-180.0, round(self.west * cell, 4)),
            max(-90.0, round(self.south * cell, 4)),
            min(180.0, round(self.east * cell, 4)),
            min(90.0, round(self.north * cell, 4)),
        )

    @property
    def key(self) -> str:
        """The widened box as the map script writes it (every grid edge has 4 decimals)."""
        return ",".join(f"{edge:.4f}" for edge in self.bbox)


def map_view(bbox: tuple[float, float, float, float]) -> MapView:
    """The finest cluster grid with at most ``CELLS_ACROSS`` cells across the box once it is
    widened to whole cells (east–west counted at the box's latitude), and that widened box.

    ``static/js/mangel.js`` (``mapView``) does the same, so the script asks for widened boxes
    and a widened box is its own answer.
    """
    west, south, east, north = bbox
    for level in range(CLUSTER_LEVELS):
        cell = CLUSTER_BASE_DEG * 2**level
        rows = math.floor(south / cell + EDGE_SLACK), math.ceil(north / cell - EDGE_SLACK)
        cols = math.floor(west / cell + EDGE_SLACK), math.ceil(east / cell - EDGE_SLACK)
        shrink = math.cos(math.radians((rows[0] + rows[1]) * cell / 2))
        if max(rows[1] - rows[0], (cols[1] - cols[0]) * shrink) <= CELLS_ACROSS:
            break
    return MapView(level, cols[0], rows[0], cols[1], rows[1])


def _filters(by_category: bool, by_status: bool) -> list:
    where = [public_filter()]
    if by_category:
        where.append(Report.category_id == bindparam("category_id"))
    if by_status:
        where.append(Report.status == bindparam("status"))
    return where


def _in_box() -> list:
    """Half-open, as the grid's cells are: a report on an edge is in one box only."""
    return [
        Report.lat >= bindparam("south"),
        Report.lat < bindparam("north"),
        Report.lon >= bindparam("west"),
        Report.lon < bindparam("east"),
    ]


# One pin as GeoJSON, written by the database itself (SQLite printf, PostgreSQL format):
# a box's pins arrive as one string instead of rows to convert one by one in Python.
# Every value is a number or a status code the database constrains to plain ASCII words.
POINT_SQL = (
    '{"type":"Feature","geometry":{"type":"Point","coordinates":[%s,%s]},'
    '"properties":{"id":%s,"status":"%s","category":%s,"date":%s}}'
)
# One cluster likewise: its reports' mean place (6 decimals, about 10 cm) and their count.
CLUSTER_SQL = {
    "postgresql": '{"type":"Feature","geometry":{"type":"Point","coordinates":[%s,%s]},'
    '"properties":{"cluster":true,"count":%s}}',
    "sqlite": '{"type":"Feature","geometry":{"type":"Point","coordinates":[%.6f,%.6f]},'
    '"properties":{"cluster":true,"count":%d}}',
}


def _format(dialect: str, template: str, *values):
    return (func.format if dialect == "postgresql" else func.printf)(template, *values)


def _joined(dialect: str, feature):
    return (func.string_agg if dialect == "postgresql" else func.group_concat)(feature, ",")


@cache
def _points_statement(dialect: str, by_category: bool, by_status: bool, by_cells: bool):
    """``(count, pins joined by commas)`` of at most ``limit`` pins in the box.

    Built once per database and filter combination; only bound values change per request.
    """
    where = [*_in_box(), *_filters(by_category, by_status)]
    if by_cells:
        where.insert(0, Report.map_cell.in_(bindparam("cells", expanding=True)))
    columns = (Report.lon, Report.lat, Report.id, Report.status, Report.category_id)
    # The popup's date as Unix seconds; the browser writes it in the town's time zone.
    if dialect == "postgresql":
        seconds = cast(func.floor(func.extract("epoch", Report.created_at)), BigInteger)
    else:
        seconds = cast(func.strftime("%s", Report.created_at), BigInteger)
    feature = _format(dialect, POINT_SQL, *columns, seconds)
    pins = select(feature.label("pin")).where(*where).limit(bindparam("limit")).subquery()
    return select(func.count(), _joined(dialect, pins.c.pin))


def _map_cells(bbox: tuple[float, float, float, float]) -> list[int] | None:
    """The grid cells a box touches, or ``None`` when there are too many to list."""
    west, south, east, north = bbox
    step = MAP_CELL_DEG
    rows = range(math.floor((south + 90) / step), math.floor((north + 90) / step) + 1)
    cols = range(math.floor((west + 180) / step), math.floor((east + 180) / step) + 1)
    if len(rows) * len(cols) > MAX_LISTED_CELLS:
        return None
    return [r * 100_000 + c for r in rows for c in cols]


def _floor(value, dialect: str):
    """``floor(value)`` in SQL; SQLite may lack it: truncate, then step down below zero."""
    if dialect == "postgresql":
        return func.floor(value)
    return cast(value, Integer) - cast(value < cast(value, Integer), Integer)


def _cluster_features(dialect: str, cells) -> object:
    """``(reports, cluster features joined by commas)`` of a subquery of cells, each with
    its ``count``, ``lat_sum`` and ``lon_sum``."""
    lat, lon = cells.c.lat_sum / cells.c.count, cells.c.lon_sum / cells.c.count
    if dialect == "postgresql":  # format's %s writes a double with 15 digits
        lat, lon = func.round(cast(lat, Numeric), 6), func.round(cast(lon, Numeric), 6)
    feature = _format(dialect, CLUSTER_SQL[dialect], lon, lat, cells.c.count)
    return select(func.coalesce(func.sum(cells.c.count), 0), _joined(dialect, feature))


@cache
def _stored_clusters_statement(dialect: str):
    """The stored cells of one level in a range of rows and columns (every public report)."""
    table = MapCluster.__table__
    cells = (
        select(table.c.count, table.c.lat_sum, table.c.lon_sum)
        .where(
            table.c.level == bindparam("level"),
            table.c.row >= bindparam("row0"),
            table.c.row < bindparam("row1"),
            table.c.col >= bindparam("col0"),
            table.c.col < bindparam("col1"),
            table.c.count > 0,
        )
        .subquery()
    )
    return _cluster_features(dialect, cells)


@cache
def _counted_clusters_statement(dialect: str, by_category: bool, by_status: bool):
    """The same for a filtered map, counted from the reports in the box."""
    cell = bindparam("cell")
    row, col = _floor(Report.lat / cell, dialect), _floor(Report.lon / cell, dialect)
    cells = (
        select(
            func.count().label("count"),
            func.sum(Report.lat).label("lat_sum"),
            func.sum(Report.lon).label("lon_sum"),
        )
        .where(*_in_box(), *_filters(by_category, by_status))
        .group_by(row, col)
        .subquery()
    )
    return _cluster_features(dialect, cells)


def rebuild_clusters(connection) -> int:
    """Count every public report into ``map_cluster`` afresh; returns the reports counted.

    For data written past the ORM (imports, the benchmark's bulk load); the web app keeps
    the counts current on its own.  Kept map answers do not see this: call
    ``lotse.cache.bump(MAP_GENERATION)`` after the commit when the app is serving.
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


def map_geojson(view: MapView, category_id: int | None, status: str | None) -> bytes:
    """A GeoJSON FeatureCollection for the widened box: single pins, or clusters with a count.

    Unfiltered, the stored counts of the box's cells say how many reports it holds, so the
    pins are read only when they will be shown.  Filtered, the pins are read first (the
    query stops after the cap): counting a large box's reports costs more.
    """
    connection = db.session.connection()
    dialect = connection.dialect.name
    cap = current_app.config["MANGEL_MAP_MAX_POINTS"]
    west, south, east, north = view.bbox
    params = {
        "south": south,
        "north": north,
        "west": west,
        "east": east,
        "category_id": category_id,
        "status": status,
    }

    def clusters() -> tuple[int, str | None]:
        if category_id or status:
            stmt = _counted_clusters_statement(dialect, bool(category_id), bool(status))
            return connection.execute(stmt, {**params, "cell": view.cell}).one()
        stmt = _stored_clusters_statement(dialect)
        bounds = {"row0": view.south, "row1": view.north, "col0": view.west, "col1": view.east}
        return connection.execute(stmt, {"level": view.level, **bounds}).one()

    if not (category_id or status):
        total, features = clusters()
        if total == 0 or total > cap:
            return _collection(features)
    cells = _map_cells(view.bbox)
    stmt = _points_statement(dialect, bool(category_id), bool(status), cells is not None)
    count, pins = connection.execute(stmt, {**params, "cells": cells, "limit": cap + 1}).one()
    if count > cap:
        pins = clusters()[1]
    return _collection(pins)


def _collection(features: str | None) -> bytes:
    return b'{"type":"FeatureCollection","features":[%s]}' % (features or "").encode()


def map_answer(
    bbox: tuple[float, float, float, float],
    category_id: int | None,
    status: str | None,
    *,
    keep: bool,
) -> bytes:
    """``map_geojson`` of the box widened to its grid; with ``keep``, an answer kept for the
    same widened box and filters is given again until a report in its regions changes."""
    view = map_view(bbox)
    config = current_app.config
    seconds = config["MANGEL_MAP_CACHE_SECONDS"] if keep else 0
    key = f"karte:{view.key}:{category_id or ''}:{status or ''}:{config['MANGEL_MAP_MAX_POINTS']}"
    if seconds <= 0:
        return map_geojson(view, category_id, status)
    return cached_for_all(
        [MAP_GENERATION, *view_regions(view)],
        key,
        seconds,
        lambda: map_geojson(view, category_id, status),
    )


def _region(level: int, row: int, col: int) -> str:
    return f"{MAP_GENERATION}:{level}:{row}:{col}"


def view_regions(view: MapView) -> list[str]:
    """The generations a widened box's answer depends on besides MAP_GENERATION: its
    regions of the finest grid where they are few, else MAP_WIDE_GENERATION."""
    # The box's rows and columns of level-0 cells: whole numbers, no rounding at the edges.
    rows = view.south << view.level, (view.north << view.level) - 1
    cols = view.west << view.level, (view.east << view.level) - 1
    for level in REGION_LEVELS:
        row_range = range(rows[0] >> level, (rows[1] >> level) + 1)
        col_range = range(cols[0] >> level, (cols[1] >> level) + 1)
        if len(row_range) * len(col_range) <= MAX_REGIONS:
            return [_region(level, r, c) for r in row_range for c in col_range]
    return [MAP_WIDE_GENERATION]


def _values(report: Report, name: str) -> list:
    """The attribute's value before and after the flush (one value when unchanged)."""
    return get_history(report, name, passive=PASSIVE_NO_INITIALIZE).sum()


def report_regions(report: Report) -> set[str]:
    """The generations a write of ``report`` bumps (``lotse.cache.watch_rows``, called after
    the flush): the regions of its old and new place, and MAP_WIDE_GENERATION.

    Any write, even one the map does not show (``updated_at``): simple and safe.
    """
    lats, lons = _values(report, "lat"), _values(report, "lon")
    if not (lats and lons):  # never loaded: the place is unknown here
        return {MAP_GENERATION}
    # Level-0 cells of the places, a centimetre either way; a region is a cell shifted up.
    slack = (-REGION_SLACK, REGION_SLACK)
    cells = {
        cluster_cell(lat + dlat, lon + dlon)
        for lat in lats
        for lon in lons
        for dlat in slack
        for dlon in slack
    }
    names = {MAP_WIDE_GENERATION}
    names.update(
        _region(level, row >> level, col >> level) for row, col in cells for level in REGION_LEVELS
    )
    return names
