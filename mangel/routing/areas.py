"""Zuständigkeitsgebiete from GeoJSON: checked before anything is stored.

Towns export Ortsteile and road corridors from their GIS; what arrives is often not what
routing can use (points or lines, UTM coordinates instead of WGS 84, a shape whose border
crosses itself).  ``read_areas`` turns a file into named polygons or refuses the whole file
with a message an admin can act on; ``store_area`` creates or replaces one area.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import shapely
from flask_babel import gettext as _
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union
from sqlalchemy import select

from lotse.extensions import db
from mangel.routing.crs import UnknownCrs, epsg_of, to_wgs84
from mangel.routing.models import Area

MAX_BYTES = 10 * 1024 * 1024
AREA_TYPES = ("Polygon", "MultiPolygon")


class AreaFileError(ValueError):
    """A file that cannot become areas; the message is for the admin, in German."""


def _load(raw: bytes) -> dict:
    if len(raw) > MAX_BYTES:
        raise AreaFileError(_("Die Datei ist größer als 10 MB."))
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise AreaFileError(_("Die Datei ist nicht UTF-8-kodiert.")) from exc
    except json.JSONDecodeError as exc:
        raise AreaFileError(
            _("Die Datei ist kein gültiges GeoJSON (Fehler in Zeile %(line)d).", line=exc.lineno)
        ) from exc
    if not isinstance(data, dict) or data.get("type") not in (
        "FeatureCollection",
        "Feature",
        *AREA_TYPES,
    ):
        raise AreaFileError(
            _(
                "Die Datei ist kein GeoJSON mit Flächen: erwartet wird eine FeatureCollection, "
                "ein Feature oder ein Polygon."
            )
        )
    return data


def _features(data: dict) -> list[dict]:
    if data["type"] == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise AreaFileError(_("Die FeatureCollection hat keine Liste „features“."))
        return features
    if data["type"] == "Feature":
        return [data]
    return [{"type": "Feature", "properties": {}, "geometry": data}]


def _projection(data: dict, epsg: int | None) -> Callable | None:
    """From the chosen EPSG code, else the file's ``crs``, to WGS 84 (None: it is already)."""
    try:
        return to_wgs84(epsg or epsg_of(data))
    except UnknownCrs as exc:
        raise AreaFileError(str(exc)) from exc


def _polygon(feature: object, number: int, project: Callable | None = None) -> BaseGeometry:
    """The feature's geometry, if it is a valid area, in longitude/latitude."""
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind not in AREA_TYPES:
        raise AreaFileError(
            _(
                "Objekt %(number)d ist kein Gebiet (%(kind)s): erlaubt sind nur Flächen "
                "(Polygon oder MultiPolygon).",
                number=number,
                kind=kind or _("ohne Geometrie"),
            )
        )
    try:
        polygon = shape(geometry)
    except Exception as exc:  # noqa: BLE001 - shapely raises many kinds on bad coordinates
        raise AreaFileError(
            _("Die Koordinaten von Objekt %(number)d sind nicht lesbar.", number=number)
        ) from exc
    if polygon.is_empty:
        raise AreaFileError(_("Objekt %(number)d ist eine leere Fläche.", number=number))
    if project is not None:
        polygon = shapely.transform(polygon, project, interleaved=False)
    west, south, east, north = polygon.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise AreaFileError(
            _(
                "Die Koordinaten von Objekt %(number)d sind keine Längen- und Breitengrade. "
                "Bitte nennen Sie das Koordinatensystem der Datei (zum Beispiel EPSG:25832) "
                "oder exportieren Sie sie in WGS 84 (EPSG:4326).",
                number=number,
            )
        )
    if not polygon.is_valid:
        raise AreaFileError(
            _(
                "Objekt %(number)d ist keine gültige Fläche (zum Beispiel überschneidet sich "
                "ihr Rand selbst).",
                number=number,
            )
        )
    return polygon


def read_areas(
    raw: bytes, name_property: str = "name", epsg: int | None = None
) -> list[tuple[str, BaseGeometry]]:
    """Named polygons from a GeoJSON file, one per feature; refuses the file on any fault.

    Coordinates are in ``epsg``, else in the system the file's ``crs`` names, else WGS 84.
    """
    areas: dict[str, BaseGeometry] = {}
    data = _load(raw)
    features = _features(data)
    if not features:
        raise AreaFileError(_("Die Datei enthält keine Gebiete."))
    project = _projection(data, epsg)
    for number, feature in enumerate(features, start=1):
        polygon = _polygon(feature, number, project)
        properties = feature.get("properties") or {}
        name = str(properties.get(name_property, "") if isinstance(properties, dict) else "")
        name = name.strip()
        if not name:
            raise AreaFileError(
                _(
                    "Objekt %(number)d hat keine Eigenschaft „%(property)s“ mit seinem Namen.",
                    number=number,
                    property=name_property,
                )
            )
        if len(name) > 120:
            raise AreaFileError(
                _("Der Name von Objekt %(number)d ist länger als 120 Zeichen.", number=number)
            )
        if name in areas:
            raise AreaFileError(_("Der Name „%(name)s“ kommt mehrfach vor.", name=name))
        areas[name] = polygon
    return list(areas.items())


def read_shape(raw: bytes, epsg: int | None = None) -> BaseGeometry:
    """One area from every polygon in a file (to replace an area's shape; names ignored)."""
    data = _load(raw)
    features = _features(data)
    if not features:
        raise AreaFileError(_("Die Datei enthält keine Gebiete."))
    project = _projection(data, epsg)
    return unary_union([_polygon(f, n, project) for n, f in enumerate(features, start=1)])


def store_area(name: str, geometry: BaseGeometry, area: Area | None = None) -> Area:
    """Create the area (or replace the shape of ``area`` / the one of that name); flush."""
    if area is None:
        area = db.session.scalar(select(Area).where(Area.name == name)) or Area(name=name)
    area.name = name
    area.geojson = mapping(geometry)
    area.min_lon, area.min_lat, area.max_lon, area.max_lat = geometry.bounds
    area.size = geometry.area
    db.session.add(area)
    db.session.flush()
    return area


def store_areas(areas: list[tuple[str, BaseGeometry]]) -> tuple[int, int]:
    """Create or replace areas by name; returns (new, replaced)."""
    existing = set(db.session.scalars(select(Area.name)))
    for name, geometry in areas:
        store_area(name, geometry)
    replaced = sum(1 for name, _geometry in areas if name in existing)
    return len(areas) - replaced, replaced


def import_areas(
    raw: bytes, name_property: str = "name", epsg: int | None = None
) -> tuple[int, int]:
    """Create or replace one area per feature of a GeoJSON file; returns (new, replaced)."""
    return store_areas(read_areas(raw, name_property, epsg))
