"""Liability dossier: the record of a report, and of a street over a period, matches its history."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lotse.extensions import db
from lotse.models import Department

pytestmark = pytest.mark.both_dbs


@pytest.fixture
def clerk(app, make_user, auth, categories):
    with app.app_context():
        department_id = db.session.scalar(select(Department.id).where(Department.name == "Tiefbau"))
    make_user(departments=(department_id,), name="Chris Clerk")
    auth.login()
    return department_id


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_dossier_lists_every_step_with_time_and_person(app, client, form_post, make_report, clerk):
    report_id = make_report(
        street="Bahnhofstraße", description="Tiefes Loch am Gully", department_id=clerk
    )
    page = f"/verwaltung/maengel/meldungen/{report_id}"
    form_post(f"{page}/annehmen", {}, page=page)
    form_post(f"{page}/notiz", {"text": "Bauhof informiert, Absperrung gestellt."}, page=page)
    form_post(f"{page}/planung", {"priority": "2", "due_date": "2026-12-09"}, page=page)
    form_post(f"{page}/status", {"status": "fixed", "public_note": "Loch verfüllt."}, page=page)
    dossier = text_of(client.get(f"{page}/akte").get_data(as_text=True))
    assert f"Vorgangsakte Meldung Nr. {report_id}" in dossier
    for expected in (
        "Gemeldet",
        "Bestätigt und öffentlich",
        "Angenommen (gesehen) Chris Clerk",
        "Interne Notiz (intern) Chris Clerk Bauhof informiert, Absperrung gestellt.",
        "Status: erledigt Chris Clerk Loch verfüllt.",
        "Priorität/Termin (intern) Chris Clerk Priorität normal → dringend, Frist 09.12.2026",
        "Tiefes Loch am Gully",
    ):
        assert expected in dossier, expected
    # Chronological: reported before accepted before closed.
    assert (
        dossier.index("Gemeldet") < dossier.index("Angenommen") < dossier.index("Status: erledigt")
    )


def test_street_dossier_and_scoping(app, client, make_report, clerk, categories):
    make_report(street="Bahnhofstraße", description="Erstes Loch", department_id=clerk)
    make_report(street="Bahnhofstraße", description="Zweites Loch", department_id=clerk)
    make_report(street="Lindenweg", description="Anderswo", department_id=clerk)
    with app.app_context():
        other = Department(name="Ordnungsamt", email="ordnung@town.example")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    make_report(street="Bahnhofstraße", description="Fremde Abteilung", department_id=other_id)
    page = text_of(
        client.get("/verwaltung/maengel/akte?strasse=Bahnhofstraße").get_data(as_text=True)
    )
    assert "Erstes Loch" in page and "Zweites Loch" in page
    assert "Anderswo" not in page
    assert "Fremde Abteilung" not in page  # another department's report stays hidden
    assert client.get("/verwaltung/maengel/akte?strasse=X&von=kein-datum").status_code == 400
    assert client.get("/verwaltung/maengel/akte").status_code == 400
    assert app.test_client().get("/verwaltung/maengel/akte?strasse=Bahnhofstraße").status_code in (
        302,
        401,
        403,
    )


def test_dossier_pdf_is_tagged_and_says_what_the_page_says(app, client, make_report, clerk):
    from tests.pdfcheck import assert_tagged_pdf

    report_id = make_report(
        street="Bahnhofstraße", description="Tiefes Loch am Gully", department_id=clerk
    )
    response = client.get(f"/verwaltung/maengel/meldungen/{report_id}/akte.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    reader = assert_tagged_pdf(
        response.data, f"Vorgangsakte Meldung Nr. {report_id} – Lotse Musterstadt"
    )
    text = " ".join(page.extract_text() for page in reader.pages)
    for expected in ("Tiefes Loch am Gully", "Gemeldet", "Bestätigt und öffentlich", "Tiefbau"):
        assert expected in text, expected
    street = client.get("/verwaltung/maengel/akte.pdf?strasse=Bahnhofstraße")
    assert street.status_code == 200
    street_text = " ".join(
        p.extract_text() for p in assert_tagged_pdf(street.data, street_title(street)).pages
    )
    assert "Tiefes Loch am Gully" in street_text


def street_title(response) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    return PdfReader(BytesIO(response.data)).metadata.title
