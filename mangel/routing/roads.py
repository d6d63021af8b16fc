"""Road authority (Straßenbaulastträger): who maintains the road a report lies on.

In Germany a pothole on a Kreisstraße is the Kreis's job, on a Landesstraße the Land's road
authority, on a Bundesstraße outside built-up areas the federal one; inside the
Ortsdurchfahrt the town is often responsible instead.  The town imports a classified road
layer (GeoJSON lines with class, number and whether the piece is an Ortsdurchfahrt, in any
coordinate reference system) and keeps rules such as "category group Straße within 15 m of
a K-road outside the Ortsdurchfahrt → Kreis Düren".  ``road_decision`` is asked first by
``rules.decide``; without a matching road rule the area and category rules apply as before.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import shapely
from flask_babel import lazy_gettext as _l
from shapely.geometry import LineString, MultiLineString, Point, shape
from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import JSON

from lotse.extensions import db
from lotse.models import Department
from mangel.models import Category
from mangel.routing.crs import UnknownCrs, epsg_of, to_wgs84

ROAD_CLASSES = {
    "A": _l("Autobahn"),
    "B": _l("Bundesstraße"),
    "L": _l("Landesstraße"),
    "K": _l("Kreisstraße"),
    "G": _l("Gemeindestraße"),
}
METRES_PER_DEG_LAT = 111_320.0
MAX_RULE_DISTANCE_M = 100


class Road(db.Model):
    """A piece of classified road: class, number, and whether it is an Ortsdurchfahrt."""

    __tablename__ = "mangel_road"

    id: Mapped[int] = mapped_column(primary_key=True)
    road_class: Mapped[str] = mapped_column(String(1))
    number: Mapped[str] = mapped_column(String(20))  # "K 27"
    name: Mapped[str] = mapped_column(String(120), default="")
    ortsdurchfahrt: Mapped[bool] = mapped_column(Boolean, default=False)
    geojson: Mapped[dict] = mapped_column(JSON)  # WGS 84 line(s)
    min_lat: Mapped[float] = mapped_column(Float, index=True)
    max_lat: Mapped[float] = mapped_column(Float)
    min_lon: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)

    @property
    def class_label(self) -> str:
        return str(ROAD_CLASSES.get(self.road_class, self.road_class))


class RoadRule(db.Model):
    """Reports (of a category or its group) near a road of a class → a department."""

    __tablename__ = "mangel_road_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    road_class: Mapped[str] = mapped_column(String(1))
    # None: both; True: only inside the Ortsdurchfahrt; False: only outside.
    ortsdurchfahrt: Mapped[bool | None] = mapped_column(Boolean)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("category.id", ondelete="CASCADE")
    )  # a leaf or a main category (group); None: every category
    distance_m: Mapped[int] = mapped_column(Integer, default=15)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"))

    category: Mapped[Category | None] = relationship()
    department: Mapped[Department] = relationship()


@dataclass(frozen=True)
class RoadDecision:
    department: Department
    road: Road
    rule: RoadRule
    distance_m: float

    @property
    def explanation(self) -> str:
        """ "Kreisstraße K 27 (außerhalb der Ortsdurchfahrt)" """
        where = (
            _l("innerhalb der Ortsdurchfahrt")
            if self.road.ortsdurchfahrt
            else _l("außerhalb der Ortsdurchfahrt")
        )
        return f"{self.road.class_label} {self.road.number} ({where})"


class RoadFileError(ValueError):
    """A road layer we cannot read; the message says why, in German."""


def read_roads(raw: bytes, epsg: int | None = None) -> list[dict]:
    """Road pieces from GeoJSON lines: properties ``klasse``/``class``, ``nummer``/``number``,
    ``name``, ``ortsdurchfahrt`` (true/false).  Coordinates in ``epsg`` (or the file's crs)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RoadFileError(str(_l("Die Datei ist kein gültiges GeoJSON."))) from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or not features:
        raise RoadFileError(str(_l("Die Datei enthält keine Straßen (FeatureCollection).")))
    try:
        project = to_wgs84(epsg or epsg_of(data))
    except UnknownCrs as exc:
        raise RoadFileError(str(exc)) from exc
    roads = []
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") or {}
        road_class = str(props.get("klasse") or props.get("class") or "").strip().upper()[:1]
        road_number = str(props.get("nummer") or props.get("number") or "").strip()
        if road_class not in ROAD_CLASSES or not road_number:
            raise RoadFileError(
                str(
                    _l(
                        "Straße %(n)d: Klasse (A, B, L, K, G) und Nummer fehlen oder sind ungültig.",
                        n=number,
                    )
                )
            )
        try:
            geometry = shape(feature.get("geometry") or {})
        except Exception as exc:  # noqa: BLE001 - shapely raises many kinds
            raise RoadFileError(
                str(_l("Straße %(n)d: Die Geometrie ist ungültig.", n=number))
            ) from exc
        if not isinstance(geometry, LineString | MultiLineString) or geometry.is_empty:
            raise RoadFileError(str(_l("Straße %(n)d: Erwartet wird eine Linie.", n=number)))
        if project is not None:
            geometry = shapely.transform(geometry, project, interleaved=False)
        west, south, east, north = geometry.bounds
        if not (-90 <= south <= north <= 90 and -180 <= west <= east <= 180):
            raise RoadFileError(
                str(
                    _l(
                        "Straße %(n)d: Die Koordinaten sind keine Längen und Breiten. "
                        "Bitte geben Sie das Koordinatensystem an (z. B. EPSG:25832).",
                        n=number,
                    )
                )
            )
        roads.append(
            {
                "road_class": road_class,
                "number": road_number[:20],
                "name": str(props.get("name") or "")[:120],
                "ortsdurchfahrt": str(props.get("ortsdurchfahrt", "")).lower()
                in ("1", "true", "ja", "yes"),
                "geojson": geometry.__geo_interface__,
                "min_lat": south,
                "max_lat": north,
                "min_lon": west,
                "max_lon": east,
            }
        )
    return roads


def import_roads(raw: bytes, epsg: int | None = None, replace: bool = True) -> int:
    """Store a road layer (replacing the old one); flush, the caller commits."""
    roads = read_roads(raw, epsg)
    if replace:
        db.session.execute(db.delete(Road))
    db.session.add_all(Road(**values) for values in roads)
    db.session.flush()
    return len(roads)


def _metres(lat: float):
    """Project degrees to metres around ``lat`` (good to a few cm over a town)."""
    scale = (METRES_PER_DEG_LAT * math.cos(math.radians(lat)), METRES_PER_DEG_LAT)

    def project(geometry):
        return shapely.transform(geometry, lambda coords: coords * scale)

    return project


def road_decision(category: Category, lat: float, lon: float) -> RoadDecision | None:
    """The road rule that applies at this point for this category, nearest road first."""
    category_ids = [category.id] + ([category.parent_id] if category.parent_id else [])
    rules = db.session.scalars(
        select(RoadRule).where(
            (RoadRule.category_id.is_(None)) | (RoadRule.category_id.in_(category_ids))
        )
    ).all()
    if not rules:
        return None
    reach = max(rule.distance_m for rule in rules)
    dlat = reach / METRES_PER_DEG_LAT
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    roads = db.session.scalars(
        select(Road).where(
            Road.road_class.in_({rule.road_class for rule in rules}),
            Road.min_lat <= lat + dlat,
            Road.max_lat >= lat - dlat,
            Road.min_lon <= lon + dlon,
            Road.max_lon >= lon - dlon,
        )
    ).all()
    project = _metres(lat)
    point = project(Point(lon, lat))
    candidates = []
    for road in roads:
        distance = project(shape(road.geojson)).distance(point)
        for rule in rules:
            if rule.road_class != road.road_class or distance > rule.distance_m:
                continue
            if rule.ortsdurchfahrt is not None and rule.ortsdurchfahrt != road.ortsdurchfahrt:
                continue
            specific = 0 if rule.category_id == category.id else 1 if rule.category_id else 2
            candidates.append((distance, specific, road, rule))
    if not candidates:
        return None
    distance, _specific, road, rule = min(candidates, key=lambda c: (c[0], c[1]))
    return RoadDecision(rule.department, road, rule, distance)


def nearest_road(lat: float, lon: float, within_m: float = 15) -> Road | None:
    """The nearest road piece within ``within_m`` (any class), for explanations."""
    dlat = within_m / METRES_PER_DEG_LAT
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    roads = db.session.scalars(
        select(Road).where(
            Road.min_lat <= lat + dlat,
            Road.max_lat >= lat - dlat,
            Road.min_lon <= lon + dlon,
            Road.max_lon >= lon - dlon,
        )
    ).all()
    project = _metres(lat)
    point = project(Point(lon, lat))
    scored = [(project(shape(r.geojson)).distance(point), r) for r in roads]
    scored = [(d, r) for d, r in scored if d <= within_m]
    return min(scored, key=lambda s: s[0])[1] if scored else None
