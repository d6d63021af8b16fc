"""Demo data for Musterstadt: categories, the address list and a few dozen public reports."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from lotse.extensions import db
from lotse.models import Department, utcnow
from mangel.models import Category, CategoryQuestion, Report, ReportStatus, StatusChange
from mangel.places import import_addresses, nearest_address
from mangel.routing.roads import RoadRule, import_roads

DEMO_ADDRESSES = Path(__file__).resolve().parent / "data" / "musterstadt_adressen.csv"

# (main category, [(leaf, department, photo required, radius m, questions)])
DEMO_CATEGORIES = [
    (
        "Straßen und Wege",
        [
            ("Straßenschaden/Schlagloch", "Tiefbau", False, 30, []),
            ("Verkehrszeichen", "Tiefbau", False, 30, []),
            ("Winterdienst fehlt", "Bauhof/Winterdienst", False, 150, []),
        ],
    ),
    (
        "Beleuchtung",
        [
            (
                "Straßenbeleuchtung defekt",
                "Straßenbeleuchtung (Netzbetreiber)",
                False,
                40,
                [("mastnummer", "Mastnummer (steht auf dem Schild am Mast)", "string", False)],
            )
        ],
    ),
    ("Sauberkeit", [("Illegale Müllablagerung", "Ordnungsamt", True, 50, [])]),
    (
        "Grün und Spielplätze",
        [
            ("Spielplatz beschädigt", "Grünflächen", False, 80, []),
            ("Grünfläche/Baum", "Grünflächen", False, 40, []),
        ],
    ),
    ("Allgemeines", [("Sonstiges", "Ordnungsamt", False, 0, [])]),
]

DEMO_TEXTS = {
    "Straßenschaden/Schlagloch": [
        "Tiefes Schlagloch in der Fahrbahn, etwa 40 cm breit. Radfahrer weichen auf den Gehweg aus.",
        "Der Asphalt bricht am Rand der Fahrbahn weg, vor allem nach Regen.",
        "Gullydeckel liegt deutlich tiefer als die Straße und klappert laut.",
    ],
    "Verkehrszeichen": [
        "Das Stoppschild ist verdreht und von der Seitenstraße aus nicht mehr zu sehen.",
        "Verkehrsschild ist von einer Hecke fast ganz zugewachsen.",
    ],
    "Winterdienst fehlt": [
        "Der Fußweg zur Bushaltestelle ist seit zwei Tagen nicht geräumt und spiegelglatt.",
    ],
    "Straßenbeleuchtung defekt": [
        "Laterne brennt seit einer Woche nicht mehr, der Weg ist abends stockdunkel.",
        "Die Straßenlampe flackert die ganze Nacht.",
    ],
    "Illegale Müllablagerung": [
        "Mehrere Säcke Bauschutt und ein alter Kühlschrank am Feldrand abgestellt.",
        "Sperrmüll neben den Altglascontainern, seit Tagen.",
    ],
    "Spielplatz beschädigt": [
        "Eine Sprosse am Klettergerüst ist gebrochen, Verletzungsgefahr.",
        "Die Schaukelkette ist stark verrostet.",
    ],
    "Grünfläche/Baum": [
        "Ein großer Ast hängt abgebrochen über dem Gehweg.",
        "Der Rasen an der Bank wird nicht mehr gemäht, die Bank ist kaum erreichbar.",
    ],
    "Sonstiges": ["Die Sitzbank an der Haltestelle ist beschädigt."],
}

STATUS_MIX = [
    ReportStatus.OPEN,
    ReportStatus.OPEN,
    ReportStatus.OPEN,
    ReportStatus.IN_PROGRESS,
    ReportStatus.IN_PROGRESS,
    ReportStatus.WAITING,
    ReportStatus.FIXED,
    ReportStatus.FIXED,
    ReportStatus.FIXED,
    ReportStatus.UNSOLVABLE,
    ReportStatus.NOT_RESPONSIBLE,
]
PUBLIC_NOTES = {
    ReportStatus.IN_PROGRESS: "Der Bauhof ist informiert und kümmert sich in den nächsten Tagen.",
    ReportStatus.WAITING: "Wir warten auf die Rückmeldung des Eigentümers.",
    ReportStatus.FIXED: "Erledigt. Vielen Dank für Ihren Hinweis!",
    ReportStatus.UNSOLVABLE: "Leider können wir hier nichts ändern: Der Weg ist in Privatbesitz.",
    ReportStatus.NOT_RESPONSIBLE: "Zuständig ist der Kreis; wir haben die Meldung weitergegeben.",
}


def seed_categories() -> list[Category]:
    """The demo category tree, each leaf mapped to a demo department; returns the leaves."""
    departments = {d.name: d for d in db.session.scalars(select(Department))}
    leaves = []
    for position, (main_name, children) in enumerate(DEMO_CATEGORIES):
        main = Category(name=main_name, position=position)
        db.session.add(main)
        for child_position, (name, department, photo, radius, questions) in enumerate(children):
            leaf = Category(
                name=name,
                parent=main,
                department=departments.get(department),
                photo_required=photo,
                duplicate_radius_m=radius,
                position=child_position,
            )
            leaf.questions = [
                CategoryQuestion(code=code, label=label, datatype=kind, required=required)
                for code, label, kind, required in questions
            ]
            db.session.add(leaf)
            leaves.append(leaf)
    db.session.flush()
    return leaves


DEMO_ROADS = {
    "type": "FeatureCollection",
    "features": [
        {  # the Kreisstraße south of the town, outside the built-up area
            "type": "Feature",
            "properties": {"klasse": "K", "nummer": "K 27", "name": "Kreuzauer Straße"},
            "geometry": {"type": "LineString", "coordinates": [[6.470, 50.7300], [6.520, 50.7310]]},
        },
        {  # its Ortsdurchfahrt through the centre: the town's job
            "type": "Feature",
            "properties": {"klasse": "K", "nummer": "K 27", "ortsdurchfahrt": True},
            "geometry": {"type": "LineString", "coordinates": [[6.485, 50.7475], [6.500, 50.7478]]},
        },
    ],
}


def seed_roads() -> None:
    """The K 27 (outside its Ortsdurchfahrt the Kreis's job) and the Kreis as an external body."""
    kreis = Department(name="Kreis Düren – Straßenbauamt", email="strassen@kreis-dueren.example")
    kreis.is_external = True
    db.session.add(kreis)
    import_roads(json.dumps(DEMO_ROADS).encode())
    streets = db.session.scalar(select(Category).where(Category.name == "Straßen und Wege"))
    db.session.add(
        RoadRule(
            road_class="K", ortsdurchfahrt=False, category=streets, distance_m=15, department=kreis
        )
    )
    db.session.flush()


def seed_demo() -> None:
    """Categories, addresses and 36 confirmed reports with histories around Kreuzau."""
    leaves = seed_categories()
    seed_roads()
    import_addresses(DEMO_ADDRESSES.read_text(encoding="utf-8"))
    rnd = random.Random(20261123)
    now = utcnow()
    for _ in range(36):
        category = rnd.choice(leaves)
        lat = 50.747 + rnd.uniform(-0.011, 0.012)
        lon = 6.491 + rnd.uniform(-0.010, 0.013)
        place = nearest_address(lat, lon)
        created = now - timedelta(days=rnd.uniform(1, 120))
        status = rnd.choice(STATUS_MIX)
        report = Report(
            category=category,
            department_id=category.department_id,
            status=status.value,
            lat=round(lat, 6),
            lon=round(lon, 6),
            street=place.street if place else "",
            nearest_address=place.label if place else "",
            description=rnd.choice(DEMO_TEXTS[category.name]),
            description_released=rnd.random() < 0.8,
            answers={"mastnummer": f"KR-{rnd.randint(100, 999)}"} if category.questions else {},
            reporter_email=f"buerger{rnd.randint(1, 999)}@example.org",
            created_at=created,
            updated_at=created,
            confirmed_at=created + timedelta(minutes=rnd.randint(2, 90)),
        )
        report.history.append(StatusChange(status=ReportStatus.OPEN.value, created_at=created))
        if status is not ReportStatus.OPEN:
            report.history.append(
                StatusChange(
                    status=status.value,
                    public_note=PUBLIC_NOTES[status],
                    created_at=created + timedelta(days=rnd.uniform(0.5, 10)),
                )
            )
        db.session.add(report)
    db.session.flush()
