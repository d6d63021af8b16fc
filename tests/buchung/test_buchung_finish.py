"""Clubs, caretakers and the office: own training named when moving onto it, undo of "nicht
genutzt" and day navigation, the usage export, German CSV labels and numbers, the feed link
with copy button and webcal:, series named with weekday and time."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from buchung.models import Booking
from lotse.extensions import db
from tests.buchung.conftest import local, next_weekday, series_data
from tests.buchung.test_clubs import set_quota

pytestmark = pytest.mark.both_dbs


def test_moving_onto_the_clubs_other_training_says_so(
    app, form_post, make_resource, make_club, book_series
):
    hall = make_resource("Dreifachhalle", hours=("08:00", "22:00"))
    make_club()
    monday = next_weekday(0)
    book_series(hall, monday, monday, purpose="Volleyball Damen 1")
    book_series(hall, monday, monday, start="20:00", end="22:00", purpose="Volleyball Herren")
    with app.app_context():
        booking_id = db.session.scalar(select(Booking.id).order_by(Booking.starts_at))
    url = f"/buchung/verein/termin/{booking_id}/verschieben"
    html = form_post(url, {"day": monday.isoformat(), "start": "20:00", "end": "22:00"})
    html = html.get_data(as_text=True)
    assert (
        "Zu dieser Zeit hat Ihr Verein schon einen Termin: Mo 20:00–22:00 Dreifachhalle: "
        f"Volleyball Herren (Mo {monday:%d.%m.} 20:00–22:00)." in html
    )
    # Its own old time is no obstacle, and the next free times are offered for the move.
    assert "Damen 1 (Mo" not in html and "gerade vergeben" not in html
    assert f"Auf Di {monday + timedelta(days=1):%d.%m.} 20:00–22:00 verschieben" in html
    assert "warteliste" not in html


@pytest.fixture
def club_dates(app, make_resource, make_club, make_user, sport_id, book):
    """Four past Monday trainings of TV Musterstadt (the last one yesterday or earlier)."""
    hall = make_resource()
    ids = make_club()
    staff = make_user(email="amt@town.example", roles=("booking_office",), departments=(sport_id,))
    yesterday = date.today() - timedelta(days=1)
    booking_ids = [
        book(hall, yesterday - timedelta(weeks=n), "18:00", "20:00", staff_id=staff)
        for n in range(4)
    ]
    with app.app_context():
        for booking_id in booking_ids:
            db.session.get(Booking, booking_id).club_id = ids["club"]
        db.session.commit()
    return yesterday, booking_ids


def test_caretaker_undoes_not_used_and_moves_between_days(
    client, form_post, make_user, auth, sport_id, club_dates
):
    yesterday, booking_ids = club_dates
    make_user(email="hm@town.example", roles=("caretaker",), departments=(sport_id,))
    auth.login(email="hm@town.example")
    page = f"/verwaltung/buchung/hausmeisterei?tag={yesterday}"
    html = client.get(page).get_data(as_text=True)
    assert f"tag={yesterday - timedelta(days=1)}" in html and "Vortag" in html
    assert f"tag={yesterday + timedelta(days=1)}" in html and "Nächster Tag" in html
    form_post(f"/verwaltung/buchung/termin/{booking_ids[0]}/nicht-genutzt", page=page)
    html = client.get(page).get_data(as_text=True)
    assert ">nicht genutzt" in html and "Rückgängig" in html
    response = form_post(f"/verwaltung/buchung/termin/{booking_ids[0]}/genutzt", page=page)
    assert response.status_code == 302
    html = client.get(response.location).get_data(as_text=True)
    assert "Rückgängig gemacht: TV Musterstadt 18:00 gilt wieder als genutzt." in html
    assert "Rückgängig<" not in html and ">Nicht genutzt<" in html


def test_usage_export_opens_in_excel_with_german_labels(client, form_post, office, club_dates):
    yesterday, booking_ids = club_dates
    office()
    page = f"/verwaltung/buchung/hausmeisterei?tag={yesterday}"
    form_post(f"/verwaltung/buchung/termin/{booking_ids[0]}/nicht-genutzt", page=page)
    first = yesterday - timedelta(days=60)
    html = client.get(f"/verwaltung/buchung/nutzung?von={first}&bis={yesterday}")
    assert f"nutzung.csv?von={first}&amp;bis={yesterday}" in html.get_data(as_text=True)
    response = client.get(f"/verwaltung/buchung/nutzung.csv?von={first}&bis={yesterday}")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert rows[0] == ["Verein", "Termine", "nicht genutzt", "Nutzungsquote (Prozent)", "Zeitraum"]
    assert rows[1] == [
        "TV Musterstadt",
        "4",
        "1",
        "75",
        f"{first:%d.%m.%Y}–{yesterday:%d.%m.%Y}",
    ]


def test_plan_csv_has_german_states_and_dates(client, make_hall, book, office):
    hall = make_hall()
    day = next_weekday(0)
    book(hall["A"], day, "10:00", "11:00")
    staff = office()
    book(hall["B"], day, "12:00", "13:00", staff_id=staff, kind="blocking")
    body = client.get(
        f"/verwaltung/buchung/raeume/{hall['hall']}/belegungsplan.csv?woche={day}"
    ).get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert rows[0][-1] == "Status"
    states = {row[3]: (row[0], row[-1]) for row in rows[1:]}
    assert states["Drittel A"] == (f"{day:%d.%m.%Y}", "reserviert, E-Mail noch nicht bestätigt")
    assert states["Drittel B"] == (f"{day:%d.%m.%Y}", "Blockung")
    assert not any(word in body for word in ("confirmed", "held", "blocking"))


@pytest.mark.parametrize(("hours", "shown"), [("3", "3 Stunden"), ("2.5", "2,5 Stunden")])
def test_quota_hours_read_the_german_way(
    client, form_post, office, make_resource, make_club, hours, shown
):
    hall = make_resource()
    ids = make_club()
    office()
    form_post(
        f"/verwaltung/buchung/vereine/{ids['club']}/kontingent",
        {"resource_id": hall, "hours": hours},
        page="/verwaltung/buchung/vereine",
    )
    html = client.get("/verwaltung/buchung/vereine").get_data(as_text=True)
    assert f"{shown} pro Woche" in html
    assert "3.0" not in html and "2.5 " not in html
    quotas = client.get("/verwaltung/buchung/vereine/kontingente").get_data(as_text=True)
    assert f"<td>{shown.split()[0]}</td>" in quotas


def test_quota_refusal_reads_german_numbers(
    app, form_post, make_resource, make_club, office, book_series
):
    hall = make_resource()
    ids = make_club()
    set_quota(form_post, office, ids["club"], hall, 1)
    monday = next_weekday(0)
    html = book_series(hall, monday, monday, start="18:00", end="19:30")
    html = html.get_data(as_text=True)
    assert "höchstens 1 Stunde pro Woche belegen" in html
    assert "schon 0 Stunden gebucht" in html and "1 Stunden" not in html


def test_no_book_button_when_no_date_is_free(
    app, client, form_post, make_resource, make_club, club_login, book
):
    hall = make_resource()
    make_club()
    monday = next_weekday(0)
    book(hall, monday, "18:00", "20:00", email="andere@example.org")
    club_login()
    data = series_data(hall, monday, monday, preview="1")
    html = form_post("/buchung/verein/serie/neu", data).get_data(as_text=True)
    assert "Ihre Termine: 0 von 1 frei" in html
    assert "Die freien Termine buchen" not in html
    assert "Keiner dieser Termine ist frei." in html
    free = form_post("/buchung/verein/serie/neu", {**data, "start": "20:00", "end": "21:00"})
    assert "Die freien Termine buchen" in free.get_data(as_text=True)


def test_feed_link_shown_once_with_copy_button_and_webcal(client, form_post, make_club, club_login):
    make_club()
    club_login()
    response = form_post("/buchung/verein/kalender-link", page="/buchung/verein/")
    assert response.status_code == 302 and response.location.endswith("#kalender-abo")
    page = client.get("/buchung/verein/")
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert 'id="feed-url" value="http' in html and 'data-copy="feed-url"' in html
    assert ">Link kopieren</button>" in html
    assert 'href="webcal://' in html and "/buchung/kalender/verein/" in html
    again = client.get("/buchung/verein/").get_data(as_text=True)
    assert "webcal://" not in again and "feed-url" not in again


def test_series_named_with_weekday_and_time_for_the_office(
    app, client, make_hall, make_club, book_series, office, form_post
):
    from buchung.models import Resource

    hall = make_hall()
    with app.app_context():
        db.session.get(Resource, hall["hall"]).needs_approval = True
        db.session.commit()
    make_club()
    tuesday = next_weekday(1)
    book_series(hall["C"], tuesday, tuesday + timedelta(weeks=1), purpose="Volleyball Damen 1")
    form_post("/abmelden", page="/buchung/verein/")
    office()
    html = client.get("/verwaltung/buchung/").get_data(as_text=True)
    assert "Di 18:00–20:00 Drittel C: Volleyball Damen 1" in html
    with app.app_context():
        booking_id = db.session.scalar(select(Booking.id))
        assert db.session.get(Booking, booking_id).starts_at == local(tuesday, "18:00")
    detail = client.get(f"/verwaltung/buchung/buchungen/{booking_id}").get_data(as_text=True)
    assert "Di 18:00–20:00 Drittel C: Volleyball Damen 1" in detail
