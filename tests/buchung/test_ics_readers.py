"""Every calendar file Lotse serves reads the same in three independent readers.

icalendar, vobject (dateutil's VTIMEZONE parser, which read RDATE lists an hour wrong in
summer) and ``ics`` (TatSu + arrow) must agree on the local and the UTC time of events on
both sides of both clock changes: the last Sunday of March and of October.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import ics
import pytest
import vobject
from icalendar import Calendar

from buchung.models import Booking, Resource
from buchung.services.booking import Contact, create_booking
from lotse.extensions import db
from tests.buchung.conftest import hhmm, local

pytestmark = pytest.mark.both_dbs


def _last_sunday(year: int, month: int) -> date:
    day = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def dst_dates() -> list[tuple[date, str, str]]:
    """(day, start, end): the days before, of and after the next two clock changes."""
    today = date.today()
    found = []
    for month in (3, 10):
        change = _last_sunday(today.year, month)
        if change < today + timedelta(days=7):
            change = _last_sunday(today.year + 1, month)
        found += [
            (change - timedelta(days=1), "18:00", "20:00"),  # Saturday before
            (change, "05:00", "06:30"),  # the morning after the change
            (change + timedelta(days=1), "18:00", "20:00"),  # Monday after
        ]
    return found


def read_icalendar(data: bytes) -> list[tuple[datetime, datetime]]:
    """icalendar, through the file's own VTIMEZONE (``to_tz``), not the system zone."""
    calendar = Calendar.from_ical(data)
    (component,) = calendar.walk("VTIMEZONE")
    zone = component.to_tz()
    found = []
    for event in calendar.walk("VEVENT"):
        for name in ("dtstart", "dtend"):
            prop = event[name]
            assert prop.params["TZID"] == "Europe/Berlin"
        start = event.decoded("dtstart").replace(tzinfo=None)
        end = event.decoded("dtend").replace(tzinfo=None)
        found.append((_localize(zone, start), _localize(zone, end)))
    return sorted(found)


def _localize(zone, wall: datetime) -> datetime:
    return zone.localize(wall) if hasattr(zone, "localize") else wall.replace(tzinfo=zone)


def read_vobject(data: bytes) -> list[tuple[datetime, datetime]]:
    calendar = vobject.readOne(data.decode())
    return sorted((e.dtstart.value, e.dtend.value) for e in calendar.vevent_list)


def read_ics(data: bytes) -> list[tuple[datetime, datetime]]:
    calendar = ics.Calendar(data.decode())
    return sorted((e.begin.datetime, e.end.datetime) for e in calendar.events)


READERS = {"icalendar": read_icalendar, "vobject": read_vobject, "ics": read_ics}


def assert_readers_agree(data: bytes, expected: list[tuple[datetime, datetime]]) -> None:
    """Each reader gives each event's expected UTC time and Berlin wall-clock time and offset."""
    text = data.decode()
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in text
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in text
    assert "RDATE" not in text
    want = [
        tuple((m.astimezone(UTC), m.astimezone(_berlin()).strftime("%Y-%m-%d %H:%M %z")) for m in e)
        for e in sorted(expected)
    ]
    for name, read in READERS.items():
        got = [
            tuple((m.astimezone(UTC), m.strftime("%Y-%m-%d %H:%M %z")) for m in event)
            for event in read(data)
        ]
        assert got == want, name


def _berlin():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Berlin")


@pytest.fixture
def dst_bookings(app, make_resource, make_club):
    """A club's confirmed bookings around both clock changes; returns ids and the feed token."""
    app.config["BUCHUNG_CLOSED_ON_HOLIDAYS"] = False  # 1 November is Allerheiligen
    resource_id = make_resource(horizon_days=800)
    ids = make_club()
    with app.app_context():
        from buchung.club_models import Club

        club = db.session.get(Club, ids["club"])
        resource = db.session.get(Resource, resource_id)
        booking_ids = []
        for day, start, end in dst_dates():
            booking = create_booking(
                resource,
                local(day, start),
                local(day, end),
                purpose="Training",
                contact=Contact("Tina Trainer", "trainer@tv.example"),
                club=club,
            )
            booking_ids.append(booking.id)
        token = club.new_feed_token()
        db.session.commit()
    return {"resource": resource_id, "bookings": booking_ids, "token": token}


def _expected() -> list[tuple[datetime, datetime]]:
    """The Berlin wall-clock times of ``dst_dates`` (aware: each with its own offset)."""
    return [
        (
            datetime.combine(day, datetime.min.time(), _berlin()) + timedelta(minutes=hhmm(s)),
            datetime.combine(day, datetime.min.time(), _berlin()) + timedelta(minutes=hhmm(e)),
        )
        for day, s, e in dst_dates()
    ]


def test_club_feed_and_public_feed_read_alike_in_three_readers(client, dst_bookings):
    expected = _expected()
    club_feed = client.get(f"/buchung/kalender/verein/{dst_bookings['token']}.ics")
    assert club_feed.status_code == 200
    assert_readers_agree(club_feed.data, expected)
    public_feed = client.get(f"/buchung/kalender/raum/{dst_bookings['resource']}.ics")
    assert public_feed.status_code == 200
    assert_readers_agree(public_feed.data, expected)


def test_each_booking_download_reads_alike_in_three_readers(app, client, dst_bookings):
    expected = _expected()
    with app.app_context():
        tokens = [db.session.get(Booking, i).token for i in dst_bookings["bookings"]]
    for token, event in zip(tokens, expected, strict=True):
        response = client.get(f"/buchung/b/{token}/buchung.ics")
        assert response.status_code == 200
        assert_readers_agree(response.data, [event])


def test_mail_attachment_reads_alike_in_three_readers(app, dst_bookings):
    from buchung.services.notices import booking_attachment

    with app.test_request_context():
        bookings = [db.session.get(Booking, i) for i in dst_bookings["bookings"]]
        attachment = booking_attachment(bookings)
    assert_readers_agree(attachment.data, _expected())


def test_series_download_reads_alike_in_three_readers(
    app, client, make_resource, make_club, book_series
):
    """A weekly series from the Monday before the March change to the Monday after the
    October change: every date 18:00–20:00 local, summer and winter alike."""
    app.config["BUCHUNG_CLOSED_ON_HOLIDAYS"] = False  # Easter and Whit Monday are dates too
    resource_id = make_resource(horizon_days=800)
    make_club()
    march = next(day for day, start, _end in dst_dates() if day.month == 3 and start == "05:00")
    october = next(day for day, start, _end in dst_dates() if day.month == 10 and start == "05:00")
    first, last = march - timedelta(days=6), october + timedelta(days=1)
    response = book_series(resource_id, first, last)
    assert response.status_code == 302
    with app.app_context():
        from sqlalchemy import select

        from buchung.club_models import BookingSeries

        series_id = db.session.scalar(select(BookingSeries.id))
    calendar = client.get(f"/buchung/verein/serie/{series_id}/termine.ics")
    assert calendar.status_code == 200
    mondays = [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]
    assert_readers_agree(
        calendar.data,
        [
            (
                datetime.combine(day, datetime.min.time(), _berlin()) + timedelta(hours=18),
                datetime.combine(day, datetime.min.time(), _berlin()) + timedelta(hours=20),
            )
            for day in mondays
        ],
    )
