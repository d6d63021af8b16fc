"""Seasons: the office keeps them, clubs plan series in them, usage is read per season."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from buchung.club_models import BookingSeries, Season
from buchung.models import Booking, BookingStatus, Closure
from lotse.extensions import db
from tests.buchung.conftest import local, next_weekday, series_data

pytestmark = pytest.mark.both_dbs

SEASONS = "/verwaltung/buchung/saisons"


def add_season(app, name: str, first: date, last: date) -> int:
    with app.app_context():
        season = Season(name=name, first_day=first, last_day=last)
        db.session.add(season)
        db.session.commit()
        return season.id


def season_fields(name: str, first: date, last: date) -> dict[str, str]:
    return {"name": name, "first_day": first.isoformat(), "last_day": last.isoformat()}


def test_office_keeps_seasons_and_bad_input_is_kept_with_a_message(
    app, client, form_post, office, make_club, club_login
):
    make_club()
    club_login()
    assert client.get(SEASONS).status_code == 403  # a club login is no office
    form_post("/abmelden", page="/buchung/verein/")
    office()
    new = f"{SEASONS}/neu"
    winter = season_fields("Wintersaison 2027/28", date(2027, 10, 1), date(2028, 3, 31))
    assert form_post(new, winter).status_code == 302
    listing = client.get(SEASONS).get_data(as_text=True)
    assert "Wintersaison 2027/28" in listing and "31.03.2028" in listing

    backwards = season_fields("Sommersaison 2028", date(2028, 9, 30), date(2028, 4, 1))
    page = form_post(new, backwards)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'value="Sommersaison 2028"' in text and 'value="2028-09-30"' in text
    assert "Der letzte Tag darf nicht vor dem ersten liegen." in text
    same = form_post(new, {**winter, "name": "wintersaison 2027/28"}).get_data(as_text=True)
    assert "Eine Saison mit diesem Namen gibt es schon." in same
    with app.app_context():
        assert db.session.scalars(select(Season.name)).all() == ["Wintersaison 2027/28"]
        season_id = db.session.scalar(select(Season.id))

    edit = f"{SEASONS}/{season_id}"
    assert form_post(edit, {**winter, "last_day": "2028-04-15"}).status_code == 302
    with app.app_context():
        assert db.session.get(Season, season_id).last_day == date(2028, 4, 15)
    assert client.post(f"{edit}/loeschen").status_code == 400  # no CSRF token
    assert form_post(f"{edit}/loeschen", page=edit).status_code == 302
    with app.app_context():
        assert db.session.get(Season, season_id) is None


def test_season_fills_the_series_dates_and_is_stored_with_it(
    app, client, form_post, make_resource, make_club, club_login
):
    hall = make_resource()
    make_club()
    first = next_weekday(0)
    last = first + timedelta(weeks=5, days=6)
    season_id = add_season(app, "Herbstrunde", first, last)
    add_season(app, "Längst vorbei", date(2020, 1, 1), date(2020, 6, 30))
    club_login()
    form = client.get("/buchung/verein/serie/neu").get_data(as_text=True)
    assert "Herbstrunde" in form and "Längst vorbei" not in form

    data = series_data(hall, first, last, season_id=season_id, preview="1")
    data.update(first_day="", last_day="")
    page = form_post("/buchung/verein/serie/neu", data).get_data(as_text=True)
    assert "6 von 6 frei" in page
    assert f'value="{first.isoformat()}"' in page and f'value="{last.isoformat()}"' in page

    outside = {**data, "last_day": (last + timedelta(days=1)).isoformat()}
    page = form_post("/buchung/verein/serie/neu", outside).get_data(as_text=True)
    assert "Die Tage müssen in der Saison „Herbstrunde“ liegen" in page
    assert "von 6 frei" not in page
    empty = {**data, "season_id": 0}
    page = form_post("/buchung/verein/serie/neu", empty).get_data(as_text=True)
    assert "Bitte geben Sie den ersten Tag an oder wählen Sie eine Saison." in page

    data.update(preview="", book_free="1")
    response = form_post("/buchung/verein/serie/neu", data)
    assert response.status_code == 302
    series_page = client.get(response.location).get_data(as_text=True)
    assert "Saison „Herbstrunde“" in series_page
    with app.app_context():
        series = db.session.scalar(select(BookingSeries))
        assert (series.season_id, series.first_day, series.last_day) == (season_id, first, last)
        assert len(db.session.scalars(select(Booking)).all()) == 6


def test_season_series_skips_configured_holidays_and_a_feiertag(
    app, client, form_post, make_resource, make_club, club_login
):
    """Around German Unity Day next year, on its weekday, with autumn holidays configured."""
    hall = make_resource()
    make_club()
    unity = date(date.today().year + 1, 10, 3)
    first, last = unity - timedelta(weeks=3), unity + timedelta(weeks=3)
    holidays = unity + timedelta(weeks=2)
    with app.app_context():
        db.session.add(
            Closure(
                title="Herbstferien",
                starts_at=local(holidays - timedelta(days=2), "00:00"),
                ends_at=local(holidays + timedelta(days=3), "00:00"),
            )
        )
        db.session.commit()
    season_id = add_season(app, "Herbst", first, last)
    club_login()
    data = series_data(hall, first, last, season_id=season_id, preview="1")
    data.update(first_day="", last_day="")
    page = form_post("/buchung/verein/serie/neu", data).get_data(as_text=True)
    assert "5 von 7 frei" in page
    rows = re.findall(r'<tr class="planned planned--(\w+)"><td>([^<]*)</td><td>([^<]*)</td>', page)
    closed = [(when[4:14], why) for state, when, why in rows if state == "closed"]
    assert closed == [
        (f"{unity:%d.%m.%Y}", "geschlossen: Feiertag: Tag der Deutschen Einheit"),
        (f"{holidays:%d.%m.%Y}", "geschlossen: Herbstferien"),
    ]

    data.update(preview="", book_free="1")
    assert form_post("/buchung/verein/serie/neu", data).status_code == 302
    with app.app_context():
        booked = sorted(
            b.starts_at for b in db.session.scalars(select(Booking)) if b.status == "confirmed"
        )
        wanted = [first + timedelta(weeks=n) for n in range(7)]
        assert booked == [local(d, "18:00") for d in wanted if d not in (unity, holidays)]


def test_usage_rate_per_club_and_season(app, client, make_resource, make_club, book, office):
    from buchung.services.usage import mark_unused

    hall = make_resource()
    clubs = {
        "TV Musterstadt": make_club()["club"],
        "SC Grün": make_club("SC Grün", email="gruen@sc.example")["club"],
    }
    staff = office()
    yesterday = date.today() - timedelta(days=1)
    days = [yesterday - timedelta(weeks=n) for n in range(4)]  # newest first
    autumn = add_season(app, "Herbst", days[3], days[2])
    winter = add_season(app, "Winter", days[1], date.today() + timedelta(days=60))
    times = {"TV Musterstadt": ("18:00", "20:00"), "SC Grün": ("20:00", "22:00")}
    unused = {("TV Musterstadt", 0), ("SC Grün", 3)}  # one in each season
    made = [
        (name, n, book(hall, day, *times[name], staff_id=staff))
        for n, day in enumerate(days)
        for name in times
    ]
    with app.app_context():
        for name, n, booking_id in made:
            booking = db.session.get(Booking, booking_id)
            booking.club_id = clubs[name]
            assert booking.status == BookingStatus.CONFIRMED
            if (name, n) in unused:
                assert mark_unused(booking)
        db.session.commit()

    def rates(query: str) -> dict[str, str]:
        page = client.get(f"/verwaltung/buchung/nutzung{query}").get_data(as_text=True)
        rows = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td><td[^>]*>(\d+ %)", page)
        return {name: f"{held}/{unused}/{rate}" for name, held, unused, rate in rows}

    assert rates(f"?saison={winter}") == {"TV Musterstadt": "2/1/50 %", "SC Grün": "2/0/100 %"}
    assert rates(f"?saison={autumn}") == {"TV Musterstadt": "2/0/100 %", "SC Grün": "2/1/50 %"}
    assert rates("") == rates(f"?saison={winter}")  # the running season first
    whole = f"?saison=0&von={days[3]}&bis={yesterday}"
    assert rates(whole) == {"TV Musterstadt": "4/1/75 %", "SC Grün": "4/1/75 %"}
    assert client.get("/verwaltung/buchung/nutzung?saison=999").status_code == 404
