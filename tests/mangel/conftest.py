"""Fixtures of the Mängelmelder tests: categories, reports, test photos, mails, uploads."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from lotse.extensions import db
from lotse.models import Department, utcnow

# Inside Musterstadt, away from the default map centre (50.747, 6.491).
INSIDE = (50.7489, 6.4935)
OUTSIDE = (50.80, 6.70)
REPORTER = {"name": "Erika Mustermann", "email": "erika.mustermann@example.org"}
RED, BLUE = (220, 20, 20), (20, 20, 220)


@pytest.fixture
def categories(app) -> dict[str, int]:
    """A main category with two leaves; the street-light leaf asks for the pole number."""
    from mangel.models import Category, CategoryQuestion

    with app.app_context():
        department = Department(name="Tiefbau", email="tiefbau@town.example")
        main = Category(name="Straßen und Wege")
        pothole = Category(name="Schlagloch", parent=main, department=department)
        light = Category(
            name="Straßenbeleuchtung defekt",
            parent=main,
            department=department,
            duplicate_radius_m=40,
        )
        light.questions = [
            CategoryQuestion(code="mastnummer", label="Mastnummer", datatype="string"),
            CategoryQuestion(
                code="art",
                label="Was ist los?",
                datatype="singlevaluelist",
                required=True,
                options=[{"key": "1", "name": "dunkel"}, {"key": "2", "name": "flackert"}],
            ),
        ]
        db.session.add_all([main, pothole, light])
        db.session.commit()
        return {"main": main.id, "pothole": pothole.id, "light": light.id}


@pytest.fixture
def make_report(app, categories) -> Callable[..., int]:
    """Store a report directly; confirmed (public) unless told otherwise. Returns its id."""
    from mangel.models import Report, StatusChange

    def make(**kw: Any) -> int:
        with app.app_context():
            values = {
                "category_id": categories["pothole"],
                "lat": INSIDE[0],
                "lon": INSIDE[1],
                "description": "Tiefes Loch",
                "reporter_name": REPORTER["name"],
                "reporter_email": REPORTER["email"],
                "confirmed_at": utcnow() - timedelta(hours=1),
                **kw,
            }
            report = Report(**values)
            report.history.append(StatusChange(status=report.status or "open"))
            db.session.add(report)
            db.session.commit()
            return report.id

    return make


def count_rows(app) -> dict[str, int]:
    from mangel.models import Report, ReportPhoto, StatusChange, Support

    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Report, ReportPhoto, StatusChange, Support)
        }


def upload_files(app) -> list[Path]:
    folder = Path(app.instance_path) / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def sent_mails(app) -> list:
    """Mails written by the embedded mail mode, oldest first."""
    folder = Path(app.instance_path) / "mail"
    if not folder.exists():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in files]


def link_in(mail, pattern: str) -> str:
    """The path of the first link in a mail that matches ``pattern``."""
    text = mail.get_body(("plain",)).get_content()
    match = re.search(r"http://localhost(/\S*" + pattern + r"\S*)", text)
    assert match, text
    return match.group(1)


def photo(
    fmt: str = "JPEG",
    size: tuple[int, int] = (640, 480),
    orientation: int | None = None,
    gps: tuple[float, float] | None = None,
) -> bytes:
    """A blue test picture with a red top-left block; optional EXIF orientation and GPS."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 4, size[1] // 4))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Testkamera"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        exif[ExifTags.IFD.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: _dms(gps[0]),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: _dms(gps[1]),
        }
    buffer = io.BytesIO()
    image.save(buffer, fmt, exif=exif) if fmt in ("JPEG", "WEBP", "PNG") else image.save(
        buffer, fmt
    )
    return buffer.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def upload(data: bytes, name: str = "foto.jpg", content_type: str = "image/jpeg"):
    return (io.BytesIO(data), name, content_type)


def details_url(category_id: int, point: tuple[float, float] = INSIDE) -> str:
    return f"/maengel/neu/angaben?category={category_id}&lat={point[0]}&lon={point[1]}&new=1"


@pytest.fixture
def report_data(categories) -> Callable[..., dict]:
    """The step-3 form of a valid street-light report; keyword arguments change fields."""

    def make(**changes: Any) -> dict:
        data = {
            "category": str(categories["light"]),
            "lat": str(INSIDE[0]),
            "lon": str(INSIDE[1]),
            "description": "Die Laterne vor Haus 12 ist seit Tagen dunkel.",
            "q_mastnummer": "KR-4711",
            "q_art": "1",
            "name": REPORTER["name"],
            "email": REPORTER["email"],
            "phone": "",
            "consent": "y",
            "website": "",
        }
        data.update(changes)
        return {key: value for key, value in data.items() if value is not None}

    return make


@pytest.fixture
def submit(form_post, categories) -> Callable[..., Any]:
    """POST step 3 the way the browser does (CSRF token from the page)."""

    def post(data: dict, **kwargs: Any):
        page = details_url(int(data.get("category") or categories["light"]))
        return form_post(
            "/maengel/neu/angaben", data, page=page, content_type="multipart/form-data", **kwargs
        )

    return post
