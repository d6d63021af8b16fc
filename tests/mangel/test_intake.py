"""Assisted intake: a clerk records a caller's report; no double opt-in, optional contact."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lotse.extensions import db
from lotse.models import Department
from mangel.models import Report
from tests.mangel.conftest import INSIDE, link_in, sent_mails

pytestmark = pytest.mark.both_dbs

CALLER = "hans.anrufer@example.org"


@pytest.fixture
def clerk(app, make_user, auth, categories):
    with app.app_context():
        department_id = db.session.scalar(select(Department.id).where(Department.name == "Tiefbau"))
    make_user(departments=(department_id,))
    auth.login()


def intake(form_post, categories, **changes):
    page = f"/verwaltung/maengel/erfassen/angaben?category={categories['light']}&channel=telefon"
    data = {
        "category": str(categories["light"]),
        "channel": "telefon",
        "address": "",
        "lat": str(INSIDE[0]),
        "lon": str(INSIDE[1]),
        "description": "Anruf: Laterne am Spielplatz ist dunkel.",
        "q_mastnummer": "",
        "q_art": "1",
        "name": "Hans Anrufer",
        "email": CALLER,
        "phone": "02421 4711",
    }
    data.update(changes)
    return form_post(
        "/verwaltung/maengel/erfassen/angaben",
        {k: v for k, v in data.items() if v is not None},
        page=page,
        content_type="multipart/form-data",
    )


def test_phone_report_is_public_routed_and_the_caller_gets_the_link(
    app, client, form_post, categories, clerk
):
    start = client.get("/verwaltung/maengel/erfassen").get_data(as_text=True)
    assert "Straßenbeleuchtung defekt" in start and "Telefon" in start
    response = intake(form_post, categories)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Meldung Nr. 1 ist erfasst. Der private Link ging an hans.anrufer@example.org." in page
    mails = sent_mails(app)
    caller = [m for m in mails if CALLER in str(m["To"])]
    assert [m["Subject"] for m in caller] == ["Ihre Meldung Nr. 1 ist eingegangen"]
    assert not [m for m in mails if "bestätigen" in str(m["Subject"]).lower()]
    assert [m for m in mails if "tiefbau@town.example" in str(m["To"])]  # routed at once
    tracking = link_in(caller[0], "/verfolgen/")
    assert "Laterne am Spielplatz" in client.get(tracking).get_data(as_text=True)
    public = app.test_client().get("/maengel/1")
    assert public.status_code == 200
    assert "Hans Anrufer" not in public.get_data(as_text=True)
    stats = client.get("/verwaltung/maengel/statistik?group=kanal").get_data(as_text=True)
    assert "<td>Telefon</td>" in stats or ">Telefon<" in stats


def test_without_an_address_nobody_but_the_department_is_mailed(
    app, client, form_post, categories, clerk
):
    response = intake(form_post, categories, email="", channel="brief")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ohne E-Mail-Adresse bekommt niemand einen Link" in page
    recipients = [str(m["To"]) for m in sent_mails(app)]
    assert recipients == ["tiefbau@town.example"]
    with app.app_context():
        report = db.session.scalar(select(Report))
        assert report.source == "brief" and report.confirmed_at is not None


def test_similar_report_nearby_is_offered_first(app, form_post, categories, clerk, make_report):
    make_report(category_id=categories["light"])
    response = intake(form_post, categories)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Schon gemeldet?" in body and "Nr. 1" in body
    assert "Anruf: Laterne am Spielplatz ist dunkel." in body  # nothing typed is lost
    assert intake(form_post, categories, new_anyway="y").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Report)) == 2


def test_missing_place_keeps_the_input_and_stores_nothing(app, form_post, categories, clerk):
    response = intake(form_post, categories, lat="", lon="", address="")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Bitte geben Sie den Ort an" in body
    assert "Hans Anrufer" in body
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Report)) == 0
    assert sent_mails(app) == []


def test_citizens_cannot_use_the_intake(client, categories):
    response = client.get("/verwaltung/maengel/erfassen")
    assert response.status_code in (302, 401, 403)
