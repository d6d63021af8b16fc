"""Open figures ("So arbeiten wir") and open data: honest numbers, no personal data."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from lotse.extensions import db
from lotse.models import utcnow
from mangel.models import Report, StatusChange

pytestmark = pytest.mark.both_dbs

PEOPLE = [
    ("Erika Mustermann", "erika.mustermann@example.org", "0241 123456"),
    ("Max Beispiel", "max.beispiel@example.org", "+49 170 9876543"),
    ("Lena Privat", "lena.privat@example.org", "02421 55555"),
]


@pytest.fixture
def reports(app, make_report):
    """Three public reports (one finished in 3 days, one in 30), one hidden, one unconfirmed."""
    now = utcnow()
    fast = make_report(
        reporter_name=PEOPLE[0][0],
        reporter_email=PEOPLE[0][1],
        reporter_phone=PEOPLE[0][2],
        confirmed_at=now - timedelta(days=40),
        accepted_at=now - timedelta(days=39),
        description="Loch vor Haus 3",
        description_released=True,
        street="Bahnhofstraße",
    )
    slow = make_report(
        reporter_name=PEOPLE[1][0],
        reporter_email=PEOPLE[1][1],
        reporter_phone=PEOPLE[1][2],
        confirmed_at=now - timedelta(days=40),
        description="Bitte Herrn Beispiel anrufen",
        description_released=False,
    )
    still_open = make_report(reporter_name=PEOPLE[2][0], reporter_email=PEOPLE[2][1])
    make_report(hidden=True, description="versteckt")
    make_report(confirmed_at=None, description="unbestätigt")
    with app.app_context():
        for report_id, days in ((fast, 3), (slow, 30)):
            report = db.session.get(Report, report_id)
            report.status = "fixed"
            report.history.append(
                StatusChange(status="fixed", created_at=report.confirmed_at + timedelta(days=days))
            )
        db.session.commit()
    return fast, slow, still_open


def test_figures_page_counts_public_reports(client, reports):
    page = client.get("/maengel/zahlen")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "So arbeiten wir" in body
    assert "Zurzeit offen</dt><dd>1</dd>" in body  # the hidden and unconfirmed don't count
    assert "<svg" in body and "Eingegangene Meldungen je Monat" in body
    # Two of the three public reports closed; one within the 14 days: 33 % of that month.
    assert "Schlagloch" in body
    assert "33 %" in body
    assert "16,5" in body  # median days to completion, German decimal comma


def test_open_data_has_public_reports_and_no_personal_data(client, reports):
    fast, slow, still_open = reports
    csv_response = client.get("/maengel/offene-daten/meldungen.csv")
    text = csv_response.get_data(as_text=True)  # streamed: read before the next request
    geo_response = client.get("/maengel/offene-daten/meldungen.geojson")
    assert csv_response.status_code == geo_response.status_code == 200
    assert 'rel="license"' in csv_response.headers["Link"]
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert [int(r["nummer"]) for r in rows] == [fast, slow, still_open]
    assert rows[0]["beschreibung"] == "Loch vor Haus 3"
    assert rows[1]["beschreibung"] == ""  # not released
    assert rows[0]["status"] == "erledigt" and rows[0]["erledigt_am"]
    data = json.loads(geo_response.get_data(as_text=True))
    assert data["license"].startswith("Datenlizenz Deutschland")
    assert [f["properties"]["nummer"] for f in data["features"]] == [fast, slow, still_open]
    everything = (text + geo_response.get_data(as_text=True)).lower()
    for name, email, phone in PEOPLE:
        for value in (name, email, phone, email.split("@")[0]):
            assert value.lower() not in everything
    assert "versteckt" not in everything and "unbestätigt" not in everything
    assert "beispiel" not in everything  # not even in an unreleased description
