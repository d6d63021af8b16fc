"""Where a report is: the town's address list, address search, nearest address, location checks."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from lotse.extensions import db
from lotse.geo import distance_m, in_town
from mangel.models import Address

SEARCH_LIMIT = 8  # suggestions while typing
CANDIDATE_LIMIT = 300  # "Meinten Sie …?" without JavaScript: every number of a street
CHOSEN_RADIUS_M = 150  # a chosen address this near the point still names it
NEAREST_WINDOW_DEG = 0.003  # about 330 m north–south: an address nearer than that is useful

COLUMN_ALIASES = {
    "street": ("street", "strasse", "straße", "str"),
    "house_number": ("house_number", "housenumber", "hausnummer", "hnr", "nr"),
    "postcode": ("postcode", "plz", "postleitzahl"),
    "city": ("city", "ort", "gemeinde"),
    "lat": ("latitude", "lat", "breite", "breitengrad"),
    "lon": ("longitude", "lon", "lng", "laenge", "länge", "laengengrad"),
}


def search_key(text: str) -> str:
    """Lower-case an address with the usual spellings of "Straße" unified, for prefix search."""
    key = text.lower().replace("ß", "ss")
    key = re.sub(r"str\.(?=\s|$)", "strasse", key)
    key = re.sub(r"[,;]", " ", key)
    return " ".join(key.split())


def search_addresses(query: str, limit: int = SEARCH_LIMIT) -> list[Address]:
    """Addresses whose street and number start like the citizen's typing."""
    key = search_key(query)
    if len(key) < 2:
        return []
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = (
        select(Address)
        .where(Address.search_key.like(escaped + "%", escape="\\"))
        .order_by(Address.street, func.length(Address.house_number), Address.house_number)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def nearest_address(lat: float, lon: float) -> Address | None:
    """The address closest to a point, looked up in a small window around it."""
    window_lon = NEAREST_WINDOW_DEG / max(math.cos(math.radians(lat)), 0.1)
    stmt = select(Address).where(
        Address.lat.between(lat - NEAREST_WINDOW_DEG, lat + NEAREST_WINDOW_DEG),
        Address.lon.between(lon - window_lon, lon + window_lon),
    )
    candidates = list(db.session.scalars(stmt))
    return min(candidates, key=lambda a: distance_m(lat, lon, a.lat, a.lon), default=None)


def short_label(address: Address) -> str:
    """An address as people say it on the spot: street and number, no postcode."""
    return " ".join(filter(None, [address.street, address.house_number]))


def chosen_address(text: str, lat: float, lon: float) -> str:
    """The address the citizen chose, when it is one of the town's and names this point.

    Only addresses from the town's list are kept, so a report never shows free text as its
    place; a pin moved away from the chosen address drops it.
    """
    key = search_key(text.split(",")[0]) if text else ""
    if len(key) < 2:
        return ""
    rows = db.session.scalars(select(Address).where(Address.search_key == key).limit(20))
    near = [(distance_m(lat, lon, a.lat, a.lon), a) for a in rows]
    near = [pair for pair in near if pair[0] <= CHOSEN_RADIUS_M]
    return short_label(min(near, key=lambda pair: pair[0])[1]) if near else ""


def group_by_street(addresses: list[Address]) -> list[tuple[str, list[Address]]]:
    """Candidates as the no-JavaScript page lists them: per street, every house number."""
    groups: dict[str, list[Address]] = {}
    for address in addresses:
        groups.setdefault(address.street, []).append(address)
    return list(groups.items())


@dataclass
class Location:
    """The outcome of reading a location from a form: a point, or messages per field."""

    lat: float | None = None
    lon: float | None = None
    errors: dict[str, str] | None = None
    candidates: list[Address] | None = None
    address: str = ""  # the town's address that was found, "Bahnhofstraße 12"

    @property
    def ok(self) -> bool:
        return not self.errors and self.lat is not None


def _parse_coordinate(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def resolve_location(address: str, lat_text: str, lon_text: str, pin: str = "") -> Location:
    """Turn typed coordinates or an address into a checked point inside the town.

    Coordinates (from the map pin or typed) win over the address field; points outside
    the boundary are refused with a message naming the town.  Whether the citizen placed
    a point is what counts, never where it is: the map script leaves the fields empty
    while its pin is untouched and says so in ``pin`` ("start"), so a typed point, an
    address, a photo's position or a moved pin are all taken, even at the map's centre.
    """
    town = current_app.config["TOWN_NAME"]
    lat_text, lon_text, address = lat_text.strip(), lon_text.strip(), address.strip()
    if lat_text or lon_text:
        lat, lon = _parse_coordinate(lat_text), _parse_coordinate(lon_text)
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return Location(
                errors={
                    "lat": _(
                        "Bitte geben Sie Breite und Länge als Dezimalzahlen ein, "
                        "zum Beispiel 50,7470 und 6,4910."
                    )
                }
            )
        return check_point(round(lat, 6), round(lon, 6))
    if address:
        matches = search_addresses(address)
        exact = [a for a in matches if a.search_key == search_key(address)]
        if len(exact) == 1 or len(matches) == 1:
            found = (exact or matches)[0]
            location = check_point(found.lat, found.lon)
            location.address = short_label(found)
            return location
        if not matches:
            message = _(
                "Diese Adresse kennen wir in %(town)s nicht. Bitte prüfen Sie die Schreibweise "
                "oder geben Sie die Hausnummer an.",
                town=town,
            )
            return Location(errors={"address": message})
        return Location(
            errors={"address": _("Mehrere Adressen passen. Bitte wählen Sie eine aus der Liste.")},
            candidates=search_addresses(address, limit=CANDIDATE_LIMIT + 1),
        )
    if pin == "start":
        return Location(
            errors={
                "lat": _(
                    "Bitte setzen Sie die Markierung genau an den Ort des Mangels – "
                    "die Markierung steht noch am Startpunkt der Karte."
                )
            }
        )
    return Location(
        errors={
            "address": _(
                "Bitte geben Sie den Ort an: Markierung auf der Karte, Adresse oder Koordinaten."
            )
        }
    )


def check_point(lat: float, lon: float) -> Location:
    """Refuse points outside the town's boundary."""
    if not in_town(lat, lon):
        return Location(
            errors={
                "lat": _(
                    "Dieser Ort liegt außerhalb von %(town)s. Wir können nur Mängel in "
                    "%(town)s bearbeiten.",
                    town=current_app.config["TOWN_NAME"],
                )
            }
        )
    return Location(lat=lat, lon=lon)


class AddressFileError(ValueError):
    """An address file we cannot read; the message names the problem."""


def _column_map(header: list[str]) -> dict[str, int]:
    normalised = [h.strip().lower() for h in header]
    found = {}
    for column, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in normalised:
                found[column] = normalised.index(alias)
                break
    missing = {"street", "lat", "lon"} - found.keys()
    if missing:
        raise AddressFileError(f"Spalten fehlen: {', '.join(sorted(missing))}")
    return found


def import_addresses(text: str) -> tuple[int, int]:
    """Replace the town's address list with a CSV export; returns (imported, skipped).

    Rows outside the town's boundary or without usable coordinates are skipped.
    """
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error as exc:
        raise AddressFileError(
            "Trennzeichen nicht erkannt (erwartet: Komma oder Semikolon)"
        ) from exc
    rows = csv.reader(io.StringIO(text), dialect)
    columns = _column_map(next(rows, []))
    db.session.execute(delete(Address))
    imported = skipped = 0
    batch = []
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        try:
            values = {name: row[index].strip() for name, index in columns.items()}
        except IndexError:
            skipped += 1
            continue
        lat, lon = _parse_coordinate(values["lat"]), _parse_coordinate(values["lon"])
        if lat is None or lon is None or not values["street"] or not in_town(lat, lon):
            skipped += 1
            continue
        number = values.get("house_number", "")
        batch.append(
            {
                "street": values["street"],
                "house_number": number,
                "postcode": values.get("postcode", ""),
                "city": values.get("city", ""),
                "search_key": search_key(f"{values['street']} {number}"),
                "lat": lat,
                "lon": lon,
            }
        )
        if len(batch) >= 1000:
            db.session.execute(Address.__table__.insert(), batch)
            imported += len(batch)
            batch = []
    if batch:
        db.session.execute(Address.__table__.insert(), batch)
        imported += len(batch)
    return imported, skipped
