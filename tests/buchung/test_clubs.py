"""Club accounts, season series, releasing trainings and calendar feeds."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import recurring_ical_events
from icalendar import Calendar
from sqlalchemy import select

from buchung.club_models import BookingSeries, Club, ClubMember
from buchung.models import Booking, BookingStatus, Closure
from lotse.extensions import db
from lotse.models import utcnow
from tests.buchung.conftest import local, next_weekday, series_data

pytestmark = pytest.mark.both_dbs


def test_registration_confirmation_and_approval(app, client, form_post, mailbox, office):
    response = form_post(
        "/buchung/verein/registrieren",
        {
            "club_name": "SV Blau-Weiß",
            "register_number": "VR 42",
            "contact_persons": "Olaf Obmann, 0123 456",
            "name": "Olaf Obmann",
            "email": "Olaf@SV.example",
            "password": "sehr-geheim-123",
        },
    )
    assert response.status_code == 200
    assert "Bitte E-Mail-Adresse bestätigen" in response.get_data(as_text=True)
    link = next(
        u for u in mailbox.links(mailbox.latest(to="olaf@sv.example")) if "bestaetigen" in u
    )
    path = link.split("://", 1)[1].split("/", 1)[1]
    login = {"email": "olaf@sv.example", "password": "sehr-geheim-123"}
    assert form_post("/buchung/verein/anmelden", login).status_code == 401
    assert form_post("/" + path).status_code == 302
    assert form_post("/buchung/verein/anmelden", login).status_code == 302
    page = client.get("/buchung/verein/").get_data(as_text=True)
    assert "noch nicht freigegeben" in page
    assert "Verwaltung" not in page  # a club login is no staff member
    assert client.get("/verwaltung/buchung/vereine").status_code == 403
    assert client.get("/verwaltung/").status_code == 403

    form_post("/abmelden", page="/buchung/verein/")
    office()
    with app.app_context():
        club_id = db.session.scalar(select(Club.id))
    assert "SV Blau-Weiß" in client.get("/verwaltung/buchung/vereine").get_data(as_text=True)
    form_post(
        f"/verwaltung/buchung/vereine/{club_id}/freigeben", page="/verwaltung/buchung/vereine"
    )
    with app.app_context():
        assert db.session.get(Club, club_id).approved


def test_registration_form_keeps_input_and_says_what_is_wrong(form_post):
    response = form_post(
        "/buchung/verein/registrieren",
        {"club_name": "SV Blau-Weiß", "email": "kaputt", "password": "kurz"},
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="SV Blau-Weiß"' in text
    assert "Bitte geben Sie eine gültige E-Mail-Adresse an." in text
    assert "mindestens 10 Zeichen" in text


def test_club_only_hall_needs_approved_club(app, make_resource, make_club, book):
    from buchung.services.booking import BookingRefused, create_booking

    hall = make_resource(access="clubs")
    ids = make_club(approved=False)
    day = next_weekday(0)
    with app.app_context():
        club = db.session.get(Club, ids["club"])
        resource = db.session.get(Booking.resource.property.mapper.class_, hall)
        with pytest.raises(BookingRefused):
            create_booking(
                resource, local(day, "18:00"), local(day, "20:00"), purpose="T", club=club
            )
        db.session.rollback()
        club = db.session.get(Club, ids["club"])
        club.approve()
        booking = create_booking(
            resource, local(day, "18:00"), local(day, "20:00"), purpose="T", club=club
        )
        assert booking.status == BookingStatus.CONFIRMED  # no guest hold for clubs


def _season(app, resource_id):
    """A ten-week Monday series with an autumn-holiday closure in week 3."""
    first = next_weekday(0)
    last = first + timedelta(weeks=9)
    with app.app_context():
        db.session.add(
            Closure(
                title="Herbstferien",
                starts_at=local(first + timedelta(weeks=2), "00:00"),
                ends_at=local(first + timedelta(weeks=2, days=5), "00:00"),
            )
        )
        db.session.commit()
    return first, last


def test_series_preview_skips_holidays_and_shows_conflict_then_books_the_free_ones(
    app, client, form_post, make_resource, make_club, club_login, book
):
    hall = make_resource()
    make_club()
    first, last = _season(app, hall)
    book(hall, first + timedelta(weeks=4), "19:00", "21:00", staff_id=None)
    club_login()
    data = series_data(hall, first, last, preview="1")
    page = form_post("/buchung/verein/serie/neu", data).get_data(as_text=True)
    assert "8 von 10 frei" in page
    rows = re.findall(r'<tr class="planned planned--(\w+)"><td>[A-Za-z]+\.? ([\d.]+) ', page)
    states = {day: state for state, day in rows}
    assert len(states) == 10
    assert {day: state for day, state in states.items() if state != "free"} == {
        f"{first + timedelta(weeks=2):%d.%m.%Y}": "closed",
        f"{first + timedelta(weeks=4):%d.%m.%Y}": "conflict",
    }
    assert "geschlossen: Herbstferien" in page

    data = series_data(hall, first, last, book_free="1")
    response = form_post("/buchung/verein/serie/neu", data)
    assert response.status_code == 302
    with app.app_context():
        series = db.session.scalar(select(BookingSeries))
        booked = sorted(b.starts_at for b in series_bookings(series.id))
        free = [first + timedelta(weeks=n) for n in range(10) if n not in (2, 4)]
        assert booked == [local(day, "18:00") for day in free]
        assert all(b.status == BookingStatus.CONFIRMED for b in series_bookings(series.id))


def series_bookings(series_id):
    return db.session.scalars(select(Booking).where(Booking.series_id == series_id)).all()


def test_series_skips_a_feiertag(app, make_resource, make_club):
    from buchung.services.series import preview

    hall = make_resource()
    ids = make_club()
    unity = date(date.today().year + 1, 10, 3)
    with app.app_context():
        series = BookingSeries(
            club=db.session.get(Club, ids["club"]),
            resource=db.session.get(Booking.resource.property.mapper.class_, hall),
            weekdays=str(unity.weekday()),  # weekly on German Unity Day's weekday
            start_minute=18 * 60,
            end_minute=20 * 60,
            every_weeks=1,
            first_day=unity - timedelta(weeks=2),
            last_day=unity + timedelta(weeks=2),
            purpose="Training",
        )
        states = [(p.day, p.state, p.note) for p in preview(series)]
        db.session.rollback()
    assert len(states) == 5
    assert [s for s in states if s[1] != "free"] == [
        (unity, "closed", "Feiertag: Tag der Deutschen Einheit")
    ]


def test_released_training_is_free_for_others_and_rest_of_series(
    app, client, form_post, make_resource, make_club, book_series, book
):
    hall = make_resource()
    make_club()
    first = next_weekday(0)
    book_series(hall, first, first + timedelta(weeks=3))
    with app.app_context():
        series = db.session.scalar(select(BookingSeries))
        occurrences = sorted(series_bookings(series.id), key=lambda b: b.starts_at)
        ids = [b.id for b in occurrences]
        series_id = series.id
    page = f"/buchung/verein/serie/{series_id}"
    assert form_post(f"/buchung/verein/termin/{ids[0]}/faellt-aus", page=page).status_code == 302
    assert book(hall, first, "18:00", "20:00")  # someone else takes the freed hall
    form_post(f"/buchung/verein/serie/{series_id}/absagen", page=page)
    with app.app_context():
        states = [db.session.get(Booking, i).status for i in ids]
    assert states == [BookingStatus.CANCELLED] * 4


def test_feeds_parse_and_public_feed_has_no_personal_data(
    app, client, form_post, make_resource, make_club, book_series, book
):
    hall = make_resource()
    make_club()
    first = next_weekday(0)
    book(hall, first, "10:00", "11:00", email="privat@example.org")
    book_series(hall, first, first + timedelta(weeks=3), purpose="Jugendtraining")
    public = client.get(f"/buchung/kalender/raum/{hall}.ics")
    assert public.status_code == 200
    text = public.get_data(as_text=True)
    for secret in ("Gabi", "privat@example.org", "Tina", "TV Musterstadt", "Jugendtraining"):
        assert secret not in text
    events = recurring_ical_events.of(Calendar.from_ical(public.data)).between(
        first, first + timedelta(weeks=5)
    )
    assert len(events) == 5
    assert all("belegt" in str(e["summary"]) for e in events)

    response = form_post("/buchung/verein/kalender-link", page="/buchung/verein/")
    url = client.get(response.location).get_data(as_text=True)
    token_url = url.split("/buchung/kalender/verein/", 1)[1].split(".ics", 1)[0]
    feed = client.get(f"/buchung/kalender/verein/{token_url}.ics")
    assert feed.status_code == 200
    events = recurring_ical_events.of(Calendar.from_ical(feed.data)).between(
        first, first + timedelta(weeks=5)
    )
    assert len(events) == 4 and "Jugendtraining" in str(events[0]["summary"])
    form_post("/buchung/verein/kalender-link", page="/buchung/verein/")
    assert client.get(f"/buchung/kalender/verein/{token_url}.ics").status_code == 404


def test_series_calendar_file_has_the_booked_dates_for_its_own_club_only(
    app, client, form_post, make_resource, make_club, club_login, book_series
):
    hall = make_resource()
    make_club()
    first = next_weekday(0)
    book_series(hall, first, first + timedelta(weeks=3), purpose="Jugendtraining")
    with app.app_context():
        series_id = db.session.scalar(select(BookingSeries.id))
        released = min(series_bookings(series_id), key=lambda b: b.starts_at).id
    page = f"/buchung/verein/serie/{series_id}"
    form_post(f"/buchung/verein/termin/{released}/faellt-aus", page=page)
    assert "termine.ics" in client.get(page).get_data(as_text=True)

    response = client.get(f"/buchung/verein/serie/{series_id}/termine.ics")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="serie.ics"'
    events = Calendar.from_ical(response.data).walk("VEVENT")
    assert [e.decoded("dtstart").date() for e in events] == [
        first + timedelta(weeks=n) for n in (1, 2, 3)
    ]
    assert {str(e["summary"]) for e in events} == {"Gymnastikhalle: Jugendtraining"}

    make_club(name="SV Kreuzau", email="obmann@sv.example")
    club_login("obmann@sv.example")
    assert client.get(f"/buchung/verein/serie/{series_id}/termine.ics").status_code == 404


def test_public_feed_names_clubs_only_when_the_town_allows_and_the_club_agreed(
    make_app, make_resource
):
    app = make_app(BUCHUNG_PUBLIC_CLUB_NAMES=True)
    with app.app_context():
        from buchung.services.plan import public_label

        assert public_label(Booking(club=Club(name="TV Musterstadt"))) == "belegt"
        booking = Booking(club=Club(name="TV Musterstadt", name_public=True))
        assert public_label(booking) == "TV Musterstadt"
        db.session.rollback()


def test_member_and_staff_ids_do_not_mix(app, make_club):
    from lotse.auth import load_user

    ids = make_club()
    with app.app_context():
        assert isinstance(load_user(f"club:{ids['member']}"), ClubMember)
        assert load_user("club:x") is None
        assert load_user("other:1") is None
        assert utcnow()


def test_move_one_occurrence_only_to_a_free_time(
    app, client, form_post, make_resource, make_club, book_series, book
):
    hall = make_resource()
    make_club()
    first = next_weekday(0)
    book_series(hall, first, first + timedelta(weeks=1))
    book(hall, first, "20:00", "21:00")
    with app.app_context():
        booking_id = min(
            b.id for b in db.session.scalars(select(Booking).where(Booking.club_id.is_not(None)))
        )
    url = f"/buchung/verein/termin/{booking_id}/verschieben"
    taken = form_post(url, {"day": first.isoformat(), "start": "19:00", "end": "21:00"})
    assert taken.status_code == 200
    assert "gerade vergeben" in taken.get_data(as_text=True)
    assert (
        form_post(url, {"day": first.isoformat(), "start": "17:00", "end": "19:00"}).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(Booking, booking_id).starts_at == local(first, "17:00")


def test_belegungsplan_public_without_names_and_csv_for_the_office(
    app, client, form_post, make_hall, make_club, book_series, book, office
):
    hall = make_hall()
    make_club()
    first = next_weekday(0)
    book(hall["A"], first, "10:00", "11:00", email="privat@example.org")
    book_series(hall["hall"], first, first, purpose="Jugendtraining")
    form_post("/abmelden", page="/buchung/verein/")
    page = client.get(f"/buchung/{hall['hall']}/belegungsplan?woche={first}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "10:00–11:00 Drittel A: belegt" in text
    assert "18:00–20:00 Dreifachhalle: belegt" in text
    for secret in ("Gabi", "TV Musterstadt", "Jugendtraining", "CSV"):
        assert secret not in text
    office()
    csv_text = client.get(
        f"/verwaltung/buchung/raeume/{hall['hall']}/belegungsplan.csv?woche={first}"
    ).get_data(as_text=True)
    assert "TV Musterstadt;Jugendtraining" in csv_text
    assert "Gabi Gast" in csv_text


def test_quota_refuses_more_hours_a_week_with_a_clear_message(
    app, client, form_post, make_resource, make_club, book_series, office
):
    hall = make_resource()
    ids = make_club()
    set_quota(form_post, office, ids["club"], hall, 3)
    first = next_weekday(0)
    book_series(hall, first, first + timedelta(weeks=1))
    wednesday = first + timedelta(days=2)
    data = series_data(hall, wednesday, wednesday + timedelta(weeks=1), preview="1")
    page = form_post("/buchung/verein/serie/neu", data).get_data(as_text=True)
    message = (
        "Ihr Verein darf Gymnastikhalle höchstens 3 Stunden pro Woche belegen; "
        f"in der Woche ab {first:%d.%m.%Y} sind schon 2 Stunden gebucht."
    )
    assert message in page
    assert "0 von 2 frei" in page
    data["end"] = "19:00"
    page = form_post("/buchung/verein/serie/neu", data).get_data(as_text=True)
    assert "2 von 2 frei" in page


def test_a_series_alone_over_the_quota_is_refused_in_the_preview(
    app, client, form_post, make_resource, make_club, club_login, office
):
    hall = make_resource()
    ids = make_club()
    set_quota(form_post, office, ids["club"], hall, 3)
    club_login()
    first = next_weekday(0)
    data = series_data(hall, first, first + timedelta(weeks=1, days=2), weekdays=[0, 2])
    page = form_post("/buchung/verein/serie/neu", {**data, "preview": "1"}).get_data(as_text=True)
    assert "2 von 4 frei" in page
    for monday in (first, first + timedelta(weeks=1)):
        assert (
            "nicht möglich: Ihr Verein darf Gymnastikhalle höchstens 3 Stunden pro Woche "
            f"belegen; mit dieser Serie wären es in der Woche ab {monday:%d.%m.%Y} 4 Stunden."
        ) in page
    assert form_post("/buchung/verein/serie/neu", {**data, "book_free": "1"}).status_code == 302
    with app.app_context():
        booked = db.session.scalars(select(Booking.starts_at).order_by(Booking.starts_at)).all()
        assert booked == [local(first + timedelta(weeks=n), "18:00") for n in (0, 1)]


def test_moving_an_occurrence_keeps_to_the_quota(
    app, client, form_post, make_resource, make_club, book_series, office
):
    hall = make_resource()
    ids = make_club()
    set_quota(form_post, office, ids["club"], hall, 2)
    first = next_weekday(0)
    book_series(hall, first, first + timedelta(weeks=1))  # 2 hours in each week: the quota
    with app.app_context():
        booking_id = db.session.scalar(select(Booking.id).order_by(Booking.starts_at))
    url = f"/buchung/verein/termin/{booking_id}/verschieben"
    next_week = first + timedelta(weeks=1, days=1)
    refused = form_post(url, {"day": next_week.isoformat(), "start": "18:00", "end": "20:00"})
    assert refused.status_code == 200
    assert "in der Woche ab" in refused.get_data(as_text=True)
    assert "höchstens 2 Stunden pro Woche" in refused.get_data(as_text=True)
    tuesday = first + timedelta(days=1)  # the same week: its own two hours do not count twice
    moved = form_post(url, {"day": tuesday.isoformat(), "start": "18:00", "end": "20:00"})
    assert moved.status_code == 302
    with app.app_context():
        assert db.session.get(Booking, booking_id).starts_at == local(tuesday, "18:00")


def test_caretaker_marks_not_used_and_the_usage_rate_shows_it(
    app, client, form_post, make_resource, make_club, make_user, auth, sport_id, book, office
):
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
    make_user(email="hm@town.example", roles=("caretaker",), departments=(sport_id,))
    auth.login(email="hm@town.example")
    page = f"/verwaltung/buchung/hausmeisterei?tag={yesterday}"
    assert "TV Musterstadt" in client.get(page).get_data(as_text=True)
    response = form_post(f"/verwaltung/buchung/termin/{booking_ids[0]}/nicht-genutzt", page=page)
    assert response.status_code == 302
    assert client.get("/verwaltung/buchung/nutzung").status_code == 403
    form_post("/abmelden", page="/verwaltung/")
    office()
    text = client.get("/verwaltung/buchung/nutzung").get_data(as_text=True)
    assert '<td>TV Musterstadt</td><td>4</td><td>1</td><td class="usage-rate">75 %</td>' in text


def test_released_training_offered_to_first_in_line_then_the_next(
    app, client, form_post, make_resource, make_club, club_login, mailbox, book_series
):
    from buchung.club_models import WaitlistEntry
    from buchung.jobs import sweep

    hall = make_resource()
    make_club()
    first = next_weekday(0)
    book_series(hall, first, first)
    form_post("/abmelden", page="/buchung/verein/")
    wait = {"day": first.isoformat(), "start": "18:00", "end": "20:00"}
    for name in ("anna", "bert"):
        response = form_post(
            f"/buchung/{hall}/warteliste", {**wait, "name": name, "email": f"{name}@example.org"}
        )
        assert response.status_code == 302
    free = form_post(
        f"/buchung/{hall}/warteliste",
        {**wait, "start": "10:00", "end": "11:00", "name": "c", "email": "c@example.org"},
    )
    assert "Diese Zeit ist frei" in free.get_data(as_text=True)

    club_login()
    with app.app_context():
        occurrence = db.session.scalar(select(Booking.id).where(Booking.club_id.is_not(None)))
    form_post(f"/buchung/verein/termin/{occurrence}/faellt-aus", page="/buchung/verein/")
    offer = mailbox.latest(to="anna@example.org")
    assert offer["Subject"] == "Ein Termin von der Warteliste ist frei geworden"
    # Bert has only the confirmation of joining, no offer yet.
    assert [m["Subject"] for m in mailbox.messages(to="bert@example.org")] == [
        "Sie stehen auf der Warteliste"
    ]

    with app.app_context():  # Anna does not answer in time
        entry = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.name == "anna"))
        entry.booking.hold_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        sweep()
        states = dict(db.session.execute(select(WaitlistEntry.name, WaitlistEntry.state)).all())
    assert states == {"anna": "lapsed", "bert": "offered"}
    offer = mailbox.latest(to="bert@example.org")
    assert offer["Subject"] == "Ein Termin von der Warteliste ist frei geworden"


def test_a_booker_cancelling_offers_the_time_to_the_waiting_list_at_once(
    app, client, form_post, make_resource, book, mailbox
):
    hall = make_resource()
    day = next_weekday(2)
    booking_id = book(hall, day, "10:00", "12:00")
    form_post(
        f"/buchung/{hall}/warteliste",
        {
            "day": day.isoformat(),
            "start": "10:00",
            "end": "11:00",
            "name": "Wanda Wartet",
            "email": "wanda@example.org",
        },
    )
    with app.app_context():
        token = db.session.get(Booking, booking_id).token
    form_post(f"/buchung/b/{token}/stornieren", {"sure": "1"}, page=f"/buchung/b/{token}")
    offer = mailbox.latest(to="wanda@example.org")
    assert offer["Subject"] == "Ein Termin von der Warteliste ist frei geworden"


def set_quota(form_post, office, club_id: int, hall: int, hours: int) -> None:
    """The booking office sets the club's weekly hours for the hall, then logs out."""
    office()
    form_post(
        f"/verwaltung/buchung/vereine/{club_id}/kontingent",
        {"resource_id": hall, "hours": str(hours)},
        page="/verwaltung/buchung/vereine",
    )
    form_post("/abmelden", page="/verwaltung/")
