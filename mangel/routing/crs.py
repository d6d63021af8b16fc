"""Coordinate systems of uploaded GIS files: whatever EPSG a town's GIS exports (German
municipal GIS default to ETRS89 / UTM 32N, EPSG:25832) becomes WGS 84 longitude/latitude."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

WGS84 = 4326


class UnknownCrs(ValueError):
    """An EPSG code pyproj does not know; the message is for the admin, in German."""


def epsg_of(data: dict) -> int | None:
    """The EPSG code named in a GeoJSON's (old-style) ``crs`` member, if any.

    ``EPSG:25832``, ``urn:ogc:def:crs:EPSG::25832`` → 25832; ``…:CRS84`` → None (WGS 84).
    """
    crs = data.get("crs") if isinstance(data, dict) else None
    properties = crs.get("properties") if isinstance(crs, dict) else None
    name = properties.get("name", "") if isinstance(properties, dict) else ""
    digits = str(name).rsplit(":", 1)[-1]
    return int(digits) if digits.isdigit() else None


def parse_epsg(text: str) -> int | None:
    """What an admin typed ("25832", "EPSG:25832", "epsg 25832") as a code; None if empty."""
    cleaned = text.strip().upper().removeprefix("EPSG").lstrip(": ").strip()
    if not cleaned:
        return None
    if not cleaned.isdigit():
        raise UnknownCrs(_("Bitte geben Sie den EPSG-Code als Zahl an, zum Beispiel 25832."))
    return int(cleaned)


def to_wgs84(epsg: int | None) -> Callable | None:
    """A function (x, y) → (lon, lat) from ``epsg``, or None when it is WGS 84 already."""
    if epsg in (None, WGS84):
        return None
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_epsg(epsg)
    except CRSError as exc:
        raise UnknownCrs(
            _("Das Koordinatensystem EPSG:%(epsg)s kennen wir nicht.", epsg=epsg)
        ) from exc
    transformer = Transformer.from_crs(crs, WGS84, always_xy=True)
    return transformer.transform
