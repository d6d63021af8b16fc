"""Booking-office journeys of issue 17: school holidays imported from an .ics for the halls
only cancel the two club trainings they hit (one mail, METHOD:CANCEL, gone from the public
plan); a club's 30-date series is approved in one action (one mail)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from icalendar import Calendar
from playwright.sync_api import Page, expect
from sqlalchemy import select

from buchung.clock import local_today, monday_of
from buchung.club_models import BookingSeries, Club, ClubMember
from buchung.models import Booking, BookingStatus, OpeningHours, Resource
from buchung.services.rules import public_holidays
from buchung.services.series import book_free
from lotse.extensions import db
from lotse.models import Department, utcnow
from tests.e2e.support import BOOKING_OFFICE, assert_accessible
from tests.mailbox import Mailbox

WEEKS = {"phone": 15, "desktop": 18}  # after the demo series; each viewport its own weeks


def _club(name: str, email: str) -> Club:
    club = Club(name=name, contact_persons="Rita Ringer, 0151 22")
    club.approve()
    member = ClubMember(club=club, name="Rita Ringer", email=email, confirmed_at=utcnow())
    member.set_password("ringer-passwort-1")
    db.session.add(member)
    db.session.flush()
    return club


def _calendar(msg) -> Calendar:
    (part,) = [p for p in msg.iter_attachments() if p.get_filename() == "buchung.ics"]
    return Calendar.from_ical(part.get_content())


def test_holiday_import_cancels_the_club_trainings_it_hits(
    page: Page, live_server, log_in, mailbox, shoot, viewport, tmp_path
):
    tag = uuid.uuid4().hex[:6]
    email = f"ringer-{tag}@rv.example"
    with live_server.app_context():
        thursday = monday_of(local_today()) + timedelta(weeks=WEEKS[viewport], days=3)
        gym = db.session.scalar(select(Resource).where(Resource.name == "Gymnastikhalle"))
        club = _club(f"Ringerverein {tag}", email)
        training = book_free(
            BookingSeries(
                club=club,
                resource=gym,
                weekdays="3",
                start_minute=17 * 60,
                end_minute=18 * 60 + 30,
                every_weeks=1,
                first_day=thursday,
                last_day=thursday + timedelta(weeks=1),
                purpose="Ringen Jugend",
            )
        )
        ids = [p.booking.id for p in training]
        db.session.commit()
        gym_id = gym.id
    plan = f"/buchung/{gym_id}/belegungsplan?woche={thursday.isoformat()}"
    page.goto(plan)
    day = page.locator("section.plan-day", has_text=thursday.strftime("%d.%m."))
    expect(day).to_contain_text("17:00")
    expect(day).to_contain_text("belegt")

    first, last = thursday - timedelta(days=3), thursday + timedelta(days=10)
    ics = tmp_path / "ferien.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Land//Schulferien//DE\r\n"
        f"BEGIN:VEVENT\r\nUID:ferien-{tag}@land.example\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART;VALUE=DATE:{first:%Y%m%d}\r\n"
        f"DTEND;VALUE=DATE:{last + timedelta(days=1):%Y%m%d}\r\n"
        f"SUMMARY:Winterferien {tag}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )

    log_in(page, BOOKING_OFFICE)
    page.goto("/verwaltung/buchung/sperrzeiten")
    page.get_by_role("link", name="Schulferien aus .ics-Datei").click()
    assert_accessible(page)
    page.get_by_label("Kalenderdatei (.ics)").set_input_files(str(ics))
    page.get_by_label("Dreifachhalle Schulzentrum", exact=True).check()
    page.get_by_label("Gymnastikhalle").check()
    page.get_by_role("button", name="Vorschau").click()
    preview = page.get_by_role("table")
    expect(preview).to_contain_text(f"Winterferien {tag}")
    expect(preview).to_contain_text(last.strftime("%d.%m.%Y"))  # the last day, not the day after
    expect(preview).not_to_contain_text("Ratssaal")
    expect(preview).to_contain_text("wird angelegt")
    assert_accessible(page)
    shoot("preview")
    page.get_by_role("button", name="Sperrzeiten übernehmen").click()

    expect(page.get_by_role("heading", name="2 Buchungen sind betroffen")).to_be_visible()
    expect(page.get_by_text(f"Ringerverein {tag}").first).to_be_visible()
    page.get_by_label("Begründung für die Buchenden").fill("Die Halle ist in den Ferien zu.")
    assert_accessible(page)
    shoot("impact")
    page.get_by_role("button", name="Stornieren und benachrichtigen").click()
    expect(page.get_by_text("2 Buchungen sind storniert")).to_be_visible()
    shoot("cancelled")

    (mail,) = mailbox.messages(to=email)  # one mail for both dates
    assert mail["Subject"] == f"Termine fallen aus: Winterferien {tag}"
    text = Mailbox.text(mail)
    assert "Die Halle ist in den Ferien zu." in text
    for n in (0, 1):
        assert (thursday + timedelta(weeks=n)).strftime("%d.%m.%Y") in text
    calendar = _calendar(mail)
    assert str(calendar["method"]) == "CANCEL"
    assert sorted(str(e["uid"]).split("@")[0] for e in calendar.walk("VEVENT")) == sorted(
        f"buchung-{i}" for i in ids
    )
    with live_server.app_context():
        assert {db.session.get(Booking, i).status for i in ids} == {BookingStatus.CANCELLED}

    page.goto(plan)
    expect(day).not_to_contain_text("belegt")
    expect(day).to_contain_text(f"Winterferien {tag}")
    shoot("public-plan")


def test_a_club_series_of_30_dates_is_approved_in_one_action(
    page: Page, live_server, log_in, mailbox, shoot, viewport
):
    tag = uuid.uuid4().hex[:6]
    email = f"kanu-{tag}@kanu.example"
    with live_server.app_context():
        sport = db.session.scalar(
            select(Department).where(Department.name == "Sport- und Bäderamt")
        )
        hall = Resource(
            name=f"Bootshalle {tag}",
            kind="hall",
            department=sport,
            needs_approval=True,
            min_minutes=60,
            max_minutes=240,
            horizon_days=400,
            opening_hours=[
                OpeningHours(weekday=d, opens_minute=8 * 60, closes_minute=22 * 60)
                for d in range(7)
            ],
        )
        db.session.add(hall)
        club = _club(f"Kanuclub {tag}", email)
        start = local_today() + timedelta(days=1)
        while public_holidays(start, start + timedelta(days=29)):  # 30 days, none a holiday
            start += timedelta(days=7)
        series = BookingSeries(
            club=club,
            resource=hall,
            weekdays=",".join(str(d) for d in range(7)),
            start_minute=18 * 60,
            end_minute=19 * 60,
            every_weeks=1,
            first_day=start,
            last_day=start + timedelta(days=29),
            purpose="Kanu-Training",
        )
        planned = book_free(series)
        db.session.commit()
        booked = [p.booking.id for p in planned if p.booking is not None]
    assert len(booked) == 30

    log_in(page, BOOKING_OFFICE)
    page.goto("/verwaltung/buchung/")
    card = page.get_by_role("region", name=f"Serie von Kanuclub {tag}")
    expect(card).to_contain_text(f"{len(booked)} Termine warten auf Entscheidung")
    assert_accessible(page)
    shoot("queue")
    card.get_by_role("button", name=f"Serie genehmigen ({len(booked)} Termine)").click()
    expect(page.get_by_text(f"{len(booked)} Termine sind genehmigt.")).to_be_visible()
    expect(page.get_by_role("region", name=f"Serie von Kanuclub {tag}")).to_have_count(0)
    shoot("approved")

    (mail,) = mailbox.messages(to=email)
    assert mail["Subject"] == "Ihre Termine sind genehmigt"
    assert f"{len(booked)} Termine genehmigt" in Mailbox.text(mail)
    calendar = _calendar(mail)
    assert str(calendar["method"]) == "REQUEST"
    assert len(calendar.walk("VEVENT")) == len(booked)
    with live_server.app_context():
        states = set(db.session.scalars(select(Booking.status).where(Booking.id.in_(booked))))
    assert states == {BookingStatus.CONFIRMED}
