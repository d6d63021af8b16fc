"""Saisonvergabe pages: forms keep input and say what is wrong, CSRF, office set-up, exports."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from buchung.allocation.models import (
    AllocationRequest,
    AllocationRound,
    ApplicantClass,
    PriorityClass,
)
from buchung.allocation.proposal import propose
from buchung.allocation.services import create_request
from buchung.club_models import Club, Season
from buchung.services.rules import public_holidays
from lotse.extensions import db
from tests.buchung.allocation_helpers import application, class_id, end_deadline, make_round
from tests.pdfcheck import assert_tagged_pdf

pytestmark = pytest.mark.both_dbs


@pytest.fixture
def open_round(app, make_resource, make_club):
    hall = make_resource("Nordhalle", kind="hall", hours=("08:00", "22:00"))
    first = date.today() + timedelta(weeks=4)
    make_club()
    return hall, make_round(app, [hall], first, first + timedelta(weeks=4))


def test_application_form_keeps_input_and_explains(app, club_login, form_post, open_round):
    hall, round_id = open_round
    club_login()
    url = f"/buchung/verein/vergabe/{round_id}/antrag"
    data = application("", class_id(app, "Training"), [hall], ([], "18:10"), ([2], ""))
    data["remark"] = "Bitte nicht zu spät"
    response = form_post(url, data)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Bitte nennen Sie die Mannschaft oder Gruppe." in text
    assert "Bitte wählen Sie mindestens einen Wochentag." in text
    assert "Viertelstundenraster" in text
    assert "Wochentage und Beginn angeben" in text
    assert 'value="18:10"' in text and "Bitte nicht zu spät" in text
    same_hall_twice = application("Herren", class_id(app, "Training"), [hall, hall], ([0], "18:00"))
    assert "jede Halle nur einmal" in form_post(url, same_hall_twice).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(AllocationRequest)) is None


def test_claiming_a_closed_class_is_refused(app, club_login, form_post, open_round):
    hall, round_id = open_round
    club_login()
    url = f"/buchung/verein/vergabe/{round_id}/antrag"
    claim = application("Herren", class_id(app, "Schule"), [hall], ([0], "18:00"))
    assert form_post(url, claim).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(AllocationRequest)) is None
    ok = application("Herren", class_id(app, "Training"), [hall], ([0], "18:00"))
    assert form_post(url, ok).status_code == 302


def test_post_without_csrf_token_is_refused(app, client, club_login, open_round):
    hall, round_id = open_round
    club_login()
    data = application("Herren", class_id(app, "Training"), [hall], ([0], "18:00"))
    response = client.post(f"/buchung/verein/vergabe/{round_id}/antrag", data=data)
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(AllocationRequest)) is None


def test_withdraw_only_before_the_deadline(app, club_login, form_post, open_round):
    hall, round_id = open_round
    club_login()
    data = application("Herren", class_id(app, "Training"), [hall], ([0], "18:00"))
    form_post(f"/buchung/verein/vergabe/{round_id}/antrag", data)
    with app.app_context():
        request_id = db.session.scalar(select(AllocationRequest.id))
    end_deadline(app, round_id)
    form_post(
        f"/buchung/verein/vergabe/antrag/{request_id}/zuruecknehmen",
        page="/buchung/verein/vergabe/",
    )
    with app.app_context():
        assert db.session.get(AllocationRequest, request_id) is not None


def test_office_opens_a_round_and_sets_classes(
    app, client, form_post, office, make_resource, make_club
):
    hall = make_resource("Nordhalle", kind="hall")
    ids = make_club("Kita Sonnenschein", "kita@example.org")
    with app.app_context():
        db.session.add(
            Season(name="Winter 2027/28", first_day=date(2027, 10, 1), last_day=date(2028, 3, 31))
        )
        db.session.commit()
        season_id = db.session.scalar(select(Season.id))
    office()
    page = "/verwaltung/"
    assert "Saisonvergabe" in client.get(page).get_data(as_text=True)
    url = "/verwaltung/buchung/vergabe/"
    bad = form_post(url + "runde", {"name": "Winter", "season_id": season_id}, page=url)
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Bitte wählen Sie mindestens eine Halle." in text and 'value="Winter"' in text
    good = {
        "name": "Wintervergabe 2027/28",
        "season_id": season_id,
        "resource_ids": [hall],
        "deadline_day": "2027-05-31",
        "deadline_time": "23:59",
    }
    assert form_post(url + "runde", good, page=url).status_code == 302
    assert form_post(url + "klassen", {"name": "Kita", "rank": 2}, page=url).status_code == 302
    duplicate = form_post(url + "klassen", {"name": "Kita", "rank": 3}, page=url)
    assert "gibt es schon" in duplicate.get_data(as_text=True)
    new_season = {
        **good,
        "name": "Sommervergabe 2028",
        "season_id": 0,
        "season_name": "Sommersaison 2028",
        "first_day": "2028-04-01",
        "last_day": "2028-03-01",
        "turns": "members",  # hours among equals in proportion to member counts
    }
    no_days = form_post(url + "runde", {**new_season, "last_day": ""}, page=url)
    assert no_days.status_code == 400
    assert "ersten und letzten Tag" in no_days.get_data(as_text=True)
    backwards = form_post(url + "runde", new_season, page=url)
    assert "nicht vor dem ersten" in backwards.get_data(as_text=True)
    new_season["last_day"] = "2028-09-30"
    assert form_post(url + "runde", new_season, page=url).status_code == 302
    with app.app_context():
        summer = db.session.scalar(select(Season).where(Season.name == "Sommersaison 2028"))
        assert (summer.first_day, summer.last_day) == (date(2028, 4, 1), date(2028, 9, 30))
        kita = db.session.scalar(select(PriorityClass).where(PriorityClass.name == "Kita"))
        kita_id = kita.id
        round_ = db.session.scalar(select(AllocationRound).order_by(AllocationRound.id))
        assert round_.resources[0].id == hall
        assert round_.deadline.isoformat() == "2027-05-31T21:59:00+00:00"  # 23:59 in Berlin
        assert round_.turns == "club"
        summer_round = db.session.scalar(
            select(AllocationRound).where(AllocationRound.season_id == summer.id)
        )
        assert summer_round.turns == "members"
    fixed = {"club_id": ids["club"], "priority_class_id": kita_id}
    assert form_post(url + "antragsteller-klasse", fixed, page=url).status_code == 302
    with app.app_context():
        assert db.session.get(ApplicantClass, ids["club"]).priority_class_id == kita_id


def test_exports_for_the_council(app, client, office, open_round):
    hall, round_id = open_round
    with app.app_context():
        round_ = db.session.get(AllocationRound, round_id)
        club = db.session.scalar(select(Club))
        training = db.session.scalar(select(PriorityClass).where(PriorityClass.name == "Training"))
        for team, day in (("Herren", 0), ("Damen", 0)):
            create_request(
                round_,
                club,
                team=team,
                priority_class=training,
                sessions_per_week=1,
                duration_minutes=90,
                first=([day], 18 * 60),
                second=None,
                hall_ids=[hall],
            )
        propose(round_)
        db.session.commit()
        round_name = round_.name
    office()
    base = f"/verwaltung/buchung/vergabe/{round_id}/zahlen"
    by_hall = client.get(base + ".csv")
    assert by_hall.mimetype == "text/csv"
    lines = by_hall.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Halle;Stunden pro Woche beantragt")
    # Before publishing the dates are what publishing would book: one unit, every Monday
    # but a public holiday.
    with app.app_context():
        season = db.session.get(AllocationRound, round_id).season
        days = [
            season.first_day + timedelta(days=n)
            for n in range((season.last_day - season.first_day).days + 1)
        ]
        holidays = public_holidays(season.first_day, season.last_day)
    lost = sum(1 for d in days if d.weekday() == 0 and d in holidays)
    booked = sum(1 for d in days if d.weekday() == 0) - lost
    row = f"3;1,5;50 %;{booked};{lost};{booked * 1.5:g}".replace(".", ",")
    assert f"Nordhalle;{row}" in lines, lines
    assert lines[-1] == f"Summe;{row}"
    by_club = client.get(base + ".csv?je=antragsteller").get_data(as_text=True)
    assert f"TV Musterstadt;{row}" in by_club
    page = client.get(base).get_data(as_text=True)
    assert '<th scope="row">Nordhalle</th>' in page and "50 %" in page
    pdf = client.get(base + ".pdf")
    assert pdf.mimetype == "application/pdf"
    reader = assert_tagged_pdf(pdf.data, f"Saisonvergabe: {round_name} – Lotse Musterstadt")
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    pdf_row = row.replace(";", " ")
    assert f"Nordhalle {pdf_row}" in text and f"TV Musterstadt {pdf_row}" in text
