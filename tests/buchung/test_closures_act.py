"""Closures act on bookings: approvals and staff bookings inside one are refused with its name
(staff may insist, and that is logged); closures of whole days end on their last day; the
cancellation deadline and the office's contact are told truthfully."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from buchung.models import Booking, BookingStatus, Closure
from lotse.extensions import db
from lotse.models import utcnow
from tests.buchung.conftest import local, next_weekday
from tests.buchung.test_admin import closure_data, staff_booking

pytestmark = pytest.mark.both_dbs

DAY = next_weekday(0)


def _requested(app, make_resource, book, make_club) -> tuple[int, int]:
    """A club's request for DAY 10–11 in a hall that needs approval, and a closure on DAY."""
    from buchung.club_models import Club
    from buchung.models import Resource
    from buchung.services.booking import create_booking

    hall = make_resource(needs_approval=True)
    ids = make_club()
    with app.app_context():
        booking_id = create_booking(
            db.session.get(Resource, hall),
            local(DAY, "10:00"),
            local(DAY, "11:00"),
            purpose="Training",
            customer_group="club",
            club=db.session.get(Club, ids["club"]),
        ).id
        db.session.add(
            Closure(
                resource_id=hall,
                title="Hallenboden",
                starts_at=local(DAY, "00:00"),
                ends_at=local(DAY + timedelta(days=1), "00:00"),
            )
        )
        db.session.commit()
    return hall, booking_id


def _status(app, booking_id: int) -> str:
    with app.app_context():
        return db.session.get(Booking, booking_id).status


def test_approval_inside_a_closure_is_refused_with_its_name(
    app, client, form_post, office, make_resource, book, make_club
):
    _, booking_id = _requested(app, make_resource, book, make_club)
    office()
    detail = f"/verwaltung/buchung/buchungen/{booking_id}"
    response = form_post(f"{detail}/genehmigen", {"approve-submit": "1"}, page=detail)
    assert response.status_code == 302
    assert "Hallenboden" in client.get(detail).get_data(as_text=True)
    assert _status(app, booking_id) == BookingStatus.REQUESTED

    response = form_post(
        "/verwaltung/buchung/anfragen",
        {"booking_ids": [str(booking_id)], "decision": "approve"},
        page="/verwaltung/buchung/",
    )
    assert "Sperrzeit „Hallenboden“" in client.get("/verwaltung/buchung/").get_data(as_text=True)
    assert _status(app, booking_id) == BookingStatus.REQUESTED


def test_staff_booking_inside_a_closure_needs_trotzdem_and_is_logged(
    app, form_post, office, make_resource, caplog
):
    hall = make_resource()
    office()
    form_post("/verwaltung/buchung/sperrzeiten/neu", closure_data(hall, title="Weihnachtsferien"))
    url = "/verwaltung/buchung/buchungen/neu"
    response = form_post(url, staff_booking(resource_id=hall))
    text = response.get_data(as_text=True)
    assert "In dieser Zeit ist geschlossen: Weihnachtsferien." in text
    assert "Trotz der Sperrzeit eintragen" in text
    with app.app_context():
        assert db.session.scalar(select(Booking)) is None
    with caplog.at_level(logging.WARNING):
        response = form_post(url, staff_booking(resource_id=hall, despite_closure="y"))
    assert response.status_code == 302
    assert any("Weihnachtsferien" in r.getMessage() for r in caplog.records)


def test_closures_of_whole_days_end_on_their_last_day(client, form_post, office, make_resource):
    hall = make_resource()
    office()
    last = DAY + timedelta(days=2)
    form_post(
        "/verwaltung/buchung/sperrzeiten/neu",
        closure_data(hall, title="Ferien", end_day=last.isoformat()),
    )
    html = client.get("/verwaltung/buchung/sperrzeiten").get_data(as_text=True)
    assert last.strftime("%d.%m.%Y") in html
    assert (last + timedelta(days=1)).strftime("%d.%m.%Y") not in html
    assert "00:00" not in html


def test_past_the_deadline_the_page_names_the_office_phone_and_mail(
    app, client, make_resource, book
):
    from buchung.clock import to_local

    app.config["BUCHUNG_OFFICE_PHONES"] = {"Sport- und Bäderamt": "02422 555-0"}
    hall = make_resource()
    with app.app_context():
        soon = to_local(utcnow() + timedelta(hours=2))
    minute = (soon.hour * 60 + soon.minute) // 30 * 30
    booking_id = book(
        hall,
        soon.date(),
        f"{minute // 60:02}:{minute % 60:02}",
        f"{(minute + 30) // 60:02}:{(minute + 30) % 60:02}",
    )
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        booking.status, booking.hold_expires_at = BookingStatus.CONFIRMED, None
        token = booking.token
        db.session.commit()
    page = client.get(f"/buchung/b/{token}").get_data(as_text=True)
    assert "Die Frist für eine Online-Stornierung ist am" in page
    assert "02422 555-0" in page and "sport@town.example" in page
    assert "Buchung stornieren" not in page


def holiday_ics(first, last) -> bytes:
    """A school-holiday calendar: one all-day event from ``first`` to ``last`` (inclusive)."""
    end = last + timedelta(days=1)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Ferien//DE\r\n"
        "BEGIN:VEVENT\r\nUID:ferien-1@test\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART;VALUE=DATE:{first:%Y%m%d}\r\nDTEND;VALUE=DATE:{end:%Y%m%d}\r\n"
        "SUMMARY:Weihnachtsferien\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def test_holiday_import_page_previews_applies_and_cancels_what_it_hits(
    app, client, form_post, office, make_resource, make_club, book_series, mailbox
):
    import io

    from tests.buchung.test_notifications import TRAINER, _calendar

    hall = make_resource("Sporthalle Nord", kind="hall")
    make_resource("Ratssaal", kind="meeting_room")
    make_club()
    book_series(hall, DAY, DAY + timedelta(days=14))  # three Mondays, two in the holidays
    form_post("/abmelden", page="/buchung/verein/")
    office()
    url = "/verwaltung/buchung/sperrzeiten/import"
    data = holiday_ics(DAY - timedelta(days=2), DAY + timedelta(days=8))
    response = form_post(
        url,
        {"file": (io.BytesIO(data), "ferien.ics"), "resource_ids": [str(hall)], "preview": "1"},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Weihnachtsferien" in html and "wird angelegt" in html
    assert "Ratssaal" in html  # offered, not chosen
    assert (DAY + timedelta(days=8)).strftime("%d.%m.%Y") in html  # the last day, not the day after
    with app.app_context():
        assert db.session.scalar(select(Closure)) is None  # a preview stores nothing
    carried = html.split('name="data" type="hidden" value="')[1].split('"')[0]
    response = form_post(
        url, {"data": carried, "resource_ids": [str(hall)], "apply": "1"}, page=url
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    impact = response.headers["Location"]
    with app.app_context():
        (closure,) = db.session.scalars(select(Closure)).all()
        assert closure.resource_id == hall  # the town-hall rooms stay open
        hit = list(
            db.session.scalars(
                select(Booking.id).where(Booking.club_id.is_not(None)).order_by(Booking.starts_at)
            )
        )[:2]
    page = client.get(impact).get_data(as_text=True)
    assert "2 Buchungen sind betroffen" in page and "TV Musterstadt" in page
    response = form_post(
        impact, {"booking_ids": [str(i) for i in hit], "reason": "Ferien: Halle zu."}
    )
    assert response.status_code == 302
    (mail,) = mailbox.messages(to=TRAINER)[-1:]
    assert mail["Subject"] == "Termine fallen aus: Weihnachtsferien"
    assert "Ferien: Halle zu." in mailbox.text(mail)
    calendar = _calendar(mail)
    assert str(calendar["method"]) == "CANCEL" and len(calendar.walk("VEVENT")) == 2
    with app.app_context():
        assert [db.session.get(Booking, i).status for i in hit] == ["cancelled", "cancelled"]
