"""Issue 20 for the booking service: the Saisonvergabe is scoped to the office's departments,
CSV exports carry no formulas, club accounts cannot be enumerated, guessed or kept logged in
after logout."""

from __future__ import annotations

import hashlib

import pytest

from buchung.allocation.models import AllocationRequest
from lotse.extensions import db
from lotse.models import Department
from tests.buchung.allocation_helpers import class_id, make_round, season_around
from tests.buchung.conftest import CLUB_PASSWORD, next_weekday
from tests.conftest import csrf_token_from

pytestmark = pytest.mark.both_dbs


@pytest.fixture
def round_with_request(app, make_resource, make_club):
    """An open round over one hall of the sport department, with one club's application."""
    hall = make_resource("Nordhalle", kind="hall")
    ids = make_club(name="=HYPERLINK(1)")
    first, last = season_around(next_weekday(0, weeks_ahead=6))
    round_id = make_round(app, [hall], first, last)
    with app.app_context():
        application = AllocationRequest(
            round_id=round_id,
            club_id=ids["club"],
            team="+Herren 1",
            priority_class_id=class_id(app, "Training"),
            duration_minutes=90,
            first_weekdays="0",
            first_start_minute=18 * 60,
        )
        db.session.add(application)
        db.session.commit()
        return {"round": round_id, "hall": hall, "request": application.id}


def test_allocation_admin_is_scoped_to_the_offices_departments(
    app, client, office, form_post, round_with_request
):
    with app.app_context():
        other = Department(name="Schulamt", email="schule@town.example")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    office("schule@town.example", departments=(other_id,))
    r = round_with_request
    base = "/verwaltung/buchung/vergabe"
    assert "Wintervergabe" not in client.get(f"{base}/").get_data(as_text=True)
    for url in (
        f"{base}/{r['round']}",
        f"{base}/{r['round']}/halle/{r['hall']}",
        f"{base}/{r['round']}/zahlen.csv",
        f"{base}/{r['round']}/zahlen.pdf",
    ):
        assert client.get(url).status_code == 404, url
    changed = form_post(
        f"{base}/antrag/{r['request']}/klasse",
        {"priority_class_id": class_id(app, "Schule")},
        page=f"{base}/",
    )
    assert changed.status_code == 404
    with app.app_context():
        assert db.session.get(AllocationRequest, r["request"]).priority_class_id == class_id(
            app, "Training"
        )


def test_allocation_csv_neutralises_formulas(client, office, round_with_request):
    office()
    csv_text = client.get(
        f"/verwaltung/buchung/vergabe/{round_with_request['round']}/zahlen.csv?je=antragsteller"
    ).get_data(as_text=True)
    assert "'=HYPERLINK(1)" in csv_text
    assert "\n=HYPERLINK" not in csv_text


def test_belegungsplan_csv_neutralises_formulas(client, make_resource, book, office):
    hall = make_resource()
    day = next_weekday(0)
    book(hall, day, "10:00", "11:00", purpose="=cmd|' /C calc'!A0")
    office()
    csv_text = client.get(
        f"/verwaltung/buchung/raeume/{hall}/belegungsplan.csv?woche={day}"
    ).get_data(as_text=True)
    assert ";'=cmd|' /C calc'!A0;" in csv_text
    assert ";=cmd" not in csv_text


def test_registration_with_a_known_address_looks_the_same_and_mails_the_owner(
    form_post, make_club, mailbox
):
    make_club()
    data = {
        "club_name": "SV Blau-Weiß",
        "register_number": "VR 42",
        "contact_persons": "Olaf Obmann",
        "name": "Olaf Obmann",
        "email": "Trainer@TV.example",
        "password": "sehr-geheim-123",
    }
    response = form_post("/buchung/verein/registrieren", data)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Bitte E-Mail-Adresse bestätigen" in text
    assert "schon ein Verein angemeldet" not in text
    notice = mailbox.latest(to="trainer@tv.example")
    assert "schon" in notice["Subject"] or "bereits" in notice["Subject"]


def test_club_login_hashes_a_password_even_for_unknown_addresses(
    client, form_post, make_club, monkeypatch
):
    make_club()
    calls = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    form_post("/buchung/verein/anmelden", {"email": "trainer@tv.example", "password": "falsch"})
    known = len(calls)
    form_post("/buchung/verein/anmelden", {"email": "niemand@tv.example", "password": "falsch"})
    assert known >= 1
    assert len(calls) - known == known


def test_club_login_is_limited_per_account_and_ip_without_locking_out_the_owner(
    app, client, form_post, make_club
):
    make_club()
    wrong = {"email": "trainer@tv.example", "password": "falsch-falsch"}
    attacker = {"REMOTE_ADDR": "203.0.113.9"}
    statuses = [
        form_post("/buchung/verein/anmelden", wrong, environ_base=attacker).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    owner = app.test_client()
    page = owner.get("/buchung/verein/anmelden", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    response = owner.post(
        "/buchung/verein/anmelden",
        data={
            "email": "trainer@tv.example",
            "password": CLUB_PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 302


def test_club_session_cookie_is_useless_after_logout(app, client, club_login, make_club, form_post):
    make_club()
    assert club_login().status_code == 302
    stolen = client.get_cookie("session").value
    assert client.get("/buchung/verein/").status_code == 200
    form_post("/abmelden", page="/buchung/verein/")
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/buchung/verein/")
    assert response.status_code == 302
    assert "/anmelden" in response.headers["Location"]


def test_booking_office_pages_are_not_cached(client, office, make_resource):
    make_resource()
    office()
    for url in ("/verwaltung/buchung/", "/verwaltung/buchung/vereine"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers.get("Cache-Control", ""), url
