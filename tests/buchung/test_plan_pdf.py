"""The Belegungsplan as PDF: the page printed, tagged, readable text with umlauts, no
personal data, club names only where the town publishes them."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from buchung.models import Closure
from lotse.extensions import db
from tests.buchung.conftest import local, next_weekday
from tests.pdfcheck import PDF_ENDPOINTS, assert_tagged_pdf

pytestmark = pytest.mark.both_dbs

CLUB = "SV Blau-Weiß Öhringen"
PRIVATE = ("Gabi", "privat@example.org", "0123", "Geburtstagsfeier", "Jugendtraining", "Tina")


def pdf_text(response) -> str:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def busy_week(app, form_post, make_resource, make_club, book, book_series):
    """A hall with a guest's party, a club's training and a closure on Wednesday."""
    hall = make_resource("Turnhalle Grünstraße")
    make_club(CLUB)
    first = next_weekday(0)
    book(hall, first, "10:00", "11:00", email="privat@example.org", purpose="Geburtstagsfeier")
    book_series(hall, first, first, purpose="Jugendtraining")
    form_post("/abmelden", page="/buchung/verein/")
    with app.app_context():
        wednesday = first + timedelta(days=2)
        db.session.add(
            Closure(
                title="Schließung für Bodenpflege",
                resource_id=hall,
                starts_at=local(wednesday, "00:00"),
                ends_at=local(wednesday + timedelta(days=1), "00:00"),
            )
        )
        db.session.commit()
    return hall, first


def test_plan_pdf_shows_the_week_without_personal_data(client, busy_week):
    hall, first = busy_week
    page = client.get(f"/buchung/{hall}/belegungsplan?woche={first}").get_data(as_text=True)
    assert f'href="/buchung/{hall}/belegungsplan.pdf?woche={first}"' in page

    response = client.get(f"/buchung/{hall}/belegungsplan.pdf?woche={first}")
    reader = assert_tagged_pdf(
        response.data, "Belegungsplan Turnhalle Grünstraße – Lotse Musterstadt"
    )
    fonts = [
        font.get_object()["/BaseFont"] for font in reader.pages[0]["/Resources"]["/Font"].values()
    ]
    assert all("Lotse-Print" in name for name in fonts), fonts  # vendored DejaVu, embedded
    text = pdf_text(response)
    assert "Belegungsplan Turnhalle Grünstraße" in text
    assert f"Woche vom {first:%d.%m.%Y} bis {first + timedelta(days=6):%d.%m.%Y}" in text
    assert f"Montag {first:%d.%m.} 10:00" in text
    assert "10:00–11:00 Turnhalle Grünstraße: belegt" in text
    assert "18:00–20:00 Turnhalle Grünstraße: belegt" in text
    assert text.count("belegt") == 2
    assert "ganztägig Turnhalle Grünstraße: geschlossen (Schließung für Bodenpflege)" in text
    assert f"Dienstag {first + timedelta(days=1):%d.%m.} frei" in text
    for secret in (*PRIVATE, CLUB):
        assert secret not in text


def test_plan_pdf_names_clubs_only_when_the_town_allows_and_the_club_agreed(app, client, busy_week):
    hall, first = busy_week
    app.config["BUCHUNG_PUBLIC_CLUB_NAMES"] = True
    url = f"/buchung/{hall}/belegungsplan.pdf?woche={first}"
    assert CLUB not in pdf_text(client.get(url))  # the club has not agreed yet
    with app.app_context():
        from sqlalchemy import update

        from buchung.club_models import Club
        from lotse.extensions import db

        db.session.execute(update(Club).values(name_public=True))
        db.session.commit()
    text = pdf_text(client.get(url))
    assert CLUB in text
    assert text.count("belegt") == 1  # the guest's party stays anonymous
    for secret in PRIVATE:
        assert secret not in text


def test_plan_pdf_of_an_unknown_hall_is_404(client):
    assert client.get("/buchung/999/belegungsplan.pdf").status_code == 404


def test_plan_pdf_speaks_the_visitors_language(client, form_post, busy_week):
    hall, first = busy_week
    form_post("/sprache", {"lang": "en", "next": "/"}, page="/")
    response = client.get(f"/buchung/{hall}/belegungsplan.pdf?woche={first}")
    assert_tagged_pdf(
        response.data, "Occupancy plan Turnhalle Grünstraße – Lotse Musterstadt", "en"
    )


def test_every_pdf_route_is_checked_for_tags(app):
    """A new PDF route must join tests/pdfcheck.py's list and be checked like these."""
    found = {rule.endpoint for rule in app.url_map.iter_rules() if "pdf" in rule.rule}
    assert found == set(PDF_ENDPOINTS)
