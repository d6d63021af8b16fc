"""The week on a phone: starts today, one day per screen, opening hours in words, closed
hours collapsed; "teilweise belegt" offers the free parts; the end defaults to the shortest
booking; a Feiertag filter says why nothing is free."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from buchung.clock import local_today
from buchung.models import OpeningHours, Resource
from lotse.extensions import db
from tests.buchung.conftest import hhmm, local, next_weekday

pytestmark = pytest.mark.both_dbs

DAY = next_weekday(2)  # a Wednesday at least a week ahead


@pytest.fixture
def hall(app, make_hall):
    """A Dreifachhalle open Mo–Fr 16–22 Uhr and Sa/So 8–20 Uhr, 60 minutes at least."""
    ids = make_hall(min_minutes=60)
    with app.app_context():
        resource = db.session.get(Resource, ids["hall"])
        resource.opening_hours = [
            OpeningHours(weekday=d, opens_minute=hhmm("16:00"), closes_minute=hhmm("22:00"))
            for d in range(5)
        ] + [
            OpeningHours(weekday=d, opens_minute=hhmm("08:00"), closes_minute=hhmm("20:00"))
            for d in (5, 6)
        ]
        db.session.commit()
    return ids


def day_view(html: str) -> str:
    return html[html.index('class="day-view"') : html.index('class="week-view')]


def week_view(html: str) -> str:
    return html[html.index('class="week-view') :]


def test_week_starts_today_without_past_days(app, client, hall):
    html = client.get(f"/buchung/{hall['hall']}").get_data(as_text=True)
    with app.app_context():
        today = local_today()
    assert f"vom {today:%d.%m.%Y} bis {today + timedelta(days=6):%d.%m.%Y}" in html
    # No way back into the past; forward by seven days from today.
    assert "Vorherige Woche" not in html
    assert f"ab={(today + timedelta(days=7)).isoformat()}" in html
    # The phone's day navigation goes to tomorrow.
    assert f"ab={(today + timedelta(days=1)).isoformat()}" in day_view(html)


def test_opening_hours_in_words_on_hall_and_part(client, hall):
    for resource_id in (hall["hall"], hall["B"]):
        html = client.get(f"/buchung/{resource_id}").get_data(as_text=True)
        assert "<dt>Öffnungszeiten</dt><dd>Mo–Fr 16–22 Uhr, Sa und So 8–20 Uhr</dd>" in html


def test_day_view_shows_only_open_hours_and_merges_taken_time(client, hall, book):
    book(hall["hall"], DAY, "18:00", "20:00")
    html = client.get(f"/buchung/{hall['hall']}?ab={DAY.isoformat()}").get_data(as_text=True)
    day = day_view(html)
    assert f"{DAY:%d.%m.%Y}: geöffnet 16–22 Uhr</caption>" in day
    assert "nicht geöffnet" not in day
    assert re.findall(r'<th scope="row">([^<]+)</th>', day) == [
        "16:00",
        "16:30",
        "17:00",
        "17:30",
        "18:00–20:00",
        "20:00",
        "20:30",
        "21:00",
        "21:30",
    ]
    assert 'cell--booked">belegt<' in day
    # The week table holds the two hours as one cell too.
    assert 'cell--booked" rowspan="4">belegt<' in week_view(html)


def test_week_table_collapses_closed_hours(client, hall):
    monday = DAY - timedelta(days=DAY.weekday())
    html = week_view(client.get(f"/buchung/{hall['hall']}?ab={monday}").get_data(as_text=True))
    # 08:00–16:00 closed Monday to Friday: one cell per day spanning 16 rows, not 16 cells.
    assert html.count('rowspan="16">nicht geöffnet<') == 5
    assert html.count('rowspan="4">nicht geöffnet<') == 2  # Saturday and Sunday 20–22
    assert html.count("nicht geöffnet<") == 7
    assert "16–22 Uhr</span>" in html and "8–20 Uhr</span>" in html


def start_param(app, day: date, text: str) -> str:
    with app.app_context():
        return local(day, text).strftime("%Y-%m-%dT%H:%MZ")


def test_partly_booked_cell_opens_the_form_with_the_free_parts(app, client, hall, book):
    book(hall["A"], DAY, "17:00", "19:00")
    html = client.get(f"/buchung/{hall['hall']}?ab={DAY.isoformat()}").get_data(as_text=True)
    start = start_param(app, DAY, "17:00")
    link = f'href="/buchung/{hall["hall"]}/buchen?start={start}"'
    assert link in day_view(html) and link in week_view(html)
    form = client.get(f"/buchung/{hall['hall']}/buchen?start={start}").get_data(as_text=True)
    assert "Die ganze Halle ist zu dieser Zeit nicht frei:" in form
    assert f"Dreifachhalle: Drittel A ist am Mi {DAY:%d.%m.} 17:00–19:00 belegt." in form
    end = start_param(app, DAY, "18:00")
    for part in ("B", "C"):
        assert f"/buchung/{hall[part]}/buchen?start={start}&amp;ende={end}" in form
        assert f">Drittel {part} buchen</a>" in form
    assert "Drittel A buchen" not in form
    # The part's form opens with the offered time, end included.
    part = client.get(f"/buchung/{hall['B']}/buchen?start={start}&ende={end}").get_data(
        as_text=True
    )
    assert 'value="17:00"' in part and 'value="18:00"' in part


def test_end_time_defaults_to_the_shortest_booking(app, client, hall):
    start = start_param(app, DAY, "16:30")
    form = client.get(f"/buchung/{hall['hall']}/buchen?start={start}").get_data(as_text=True)
    assert 'id="start" name="start" required type="time" value="16:30"' in form
    assert 'id="end" name="end" required type="time" value="17:30"' in form
    assert "Die ganze Halle" not in form


BOOKING = {
    "purpose": "Geburtstag",
    "attendees": "20",
    "customer_group": "private",
    "contact_name": "Gabi Gast",
    "contact_email": "gabi@example.org",
    "contact_phone": "0123",
}


def test_refused_hall_booking_names_the_part_and_offers_free_times(
    app, client, form_post, hall, book
):
    book(hall["A"], DAY, "17:00", "19:00")
    url = f"/buchung/{hall['hall']}/buchen"
    response = form_post(url, {**BOOKING, "day": DAY.isoformat(), "start": "17:00", "end": "18:00"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert f"Dreifachhalle: Drittel A ist am Mi {DAY:%d.%m.} 17:00–19:00 belegt." in html
    # Next free hours of the whole hall: 19–20 that day, then 17–18 (the wished time of
    # day) on the following days.
    offers = re.findall(r">((?:Drittel \w: )?\w\w \d\d\.\d\d\. \d\d:\d\d–\d\d:\d\d) buchen<", html)
    next_day = DAY + timedelta(days=1)
    assert offers[:3] == [
        f"Mi {DAY:%d.%m.} 19:00–20:00",
        f"Do {next_day:%d.%m.} 17:00–18:00",
        f"Fr {DAY + timedelta(days=2):%d.%m.} 17:00–18:00",
    ]
    # Drittel B and C are free at the wished time itself, Drittel A after its booking.
    assert offers[3:] == [
        f"Drittel B: Mi {DAY:%d.%m.} 17:00–18:00",
        f"Drittel C: Mi {DAY:%d.%m.} 17:00–18:00",
        f"Drittel A: Mi {DAY:%d.%m.} 19:00–20:00",
    ]
    start, end = start_param(app, DAY, "17:00"), start_param(app, DAY, "18:00")
    assert f"/buchung/{hall['hall']}/warteliste?start={start}&amp;ende={end}" in html
    # An offer is a button of the form: it books the offered time with what was typed.
    offer = f"{start_param(app, DAY, '19:00')}/{start_param(app, DAY, '20:00')}"
    assert f'form="booking-form" name="angebot" value="{offer}"' in html
    booked = form_post(
        url,
        {**BOOKING, "day": DAY.isoformat(), "start": "17:00", "end": "18:00", "angebot": offer},
    )
    assert booked.status_code == 302
    with app.app_context():
        from sqlalchemy import select

        from buchung.models import Booking

        booking = db.session.scalars(select(Booking).where(Booking.purpose == "Geburtstag")).one()
        assert (booking.resource_id, booking.starts_at) == (hall["hall"], local(DAY, "19:00"))
        assert booking.contact_email == "gabi@example.org"
    # The waiting list opens with the wished time.
    waitlist = client.get(f"/buchung/{hall['hall']}/warteliste?start={start}&ende={end}")
    assert 'value="17:00"' in waitlist.get_data(as_text=True)
    assert 'value="18:00"' in waitlist.get_data(as_text=True)


def test_refusal_by_closure_names_it_and_offers_the_next_day(app, form_post, hall):
    from buchung.models import Closure

    with app.app_context():
        db.session.add(
            Closure(title="Hallenfest", starts_at=local(DAY, "00:00"), ends_at=local(DAY, "24:00"))
        )
        db.session.commit()
    url = f"/buchung/{hall['C']}/buchen"
    html = form_post(url, {**BOOKING, "day": DAY.isoformat(), "start": "17:00", "end": "18:00"})
    html = html.get_data(as_text=True)
    assert "In dieser Zeit ist geschlossen: Hallenfest." in html
    assert f"Do {DAY + timedelta(days=1):%d.%m.} 17:00–18:00 buchen" in html
    assert "warteliste" not in html  # nobody holds the time: nothing to wait for


def test_holiday_filter_says_why_no_room_is_free(app, client, make_resource):
    make_resource("Gymnastikhalle")
    make_resource("Sitzungssaal", kind="meeting_room")
    with app.app_context():
        from buchung.services.rules import public_holidays

        today = local_today()
        holidays = public_holidays(today + timedelta(days=1), today + timedelta(days=400))
        day, name = min(holidays.items())
    html = client.get(f"/buchung/?day={day.isoformat()}").get_data(as_text=True)
    assert "0 Räume gefunden" not in html
    assert "Kein Raum frei am" in html and f"{day:%d.%m.%Y} – Feiertag: {name}</h2>" in html


def test_filter_lists_why_a_room_is_not_free(app, client, make_resource, book):
    gym = make_resource("Gymnastikhalle", hours=("10:00", "11:00"))
    make_resource("Sitzungssaal", kind="meeting_room")
    book(gym, DAY, "10:00", "11:00")
    html = client.get(f"/buchung/?day={DAY.isoformat()}").get_data(as_text=True)
    assert "1 Raum gefunden" in html
    assert ">Gymnastikhalle</a>: ausgebucht</li>" in html


@pytest.mark.parametrize(
    "query",
    [
        "?ab=9999-12-30",
        "?woche=9999-12-31",
        "?ab=0001-01-01",
        "/buchen?start=9999-12-31T23:30Z",
        "/buchen?start=2030-01-01T10:00Z&ende=9999-12-31T23:59Z",
        "/warteliste?start=9999-12-31T23:30Z",
        "/belegungsplan?woche=9999-12-31",
    ],
)
def test_dates_at_the_end_of_the_calendar_are_no_error(client, hall, query):
    assert client.get(f"/buchung/{hall['hall']}{query}").status_code == 200


def test_far_off_wish_and_offer_are_refused_calmly(client, form_post, hall):
    url = f"/buchung/{hall['hall']}/buchen"
    far = {**BOOKING, "day": "9999-12-30", "start": "17:00", "end": "18:00"}
    assert form_post(url, far).status_code == 200
    offer = {**BOOKING, "day": DAY.isoformat(), "start": "17:00", "end": "18:00"}
    for value in ("9999-12-31T23:00Z/9999-12-31T23:59Z", "x/y", "2030-01-01T10:00Z"):
        assert form_post(url, {**offer, "angebot": value}).status_code in (200, 302, 409)
