"""On a phone (390 px): find a free hour today and book it; a refused booking offers the
next free time, and one tap books that instead with everything already typed."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from buchung.clock import local_moment, local_today, minute_of_day
from buchung.models import Booking, OpeningHours, Resource
from buchung.services.booking import Contact, create_booking
from lotse.extensions import db
from lotse.models import Department, utcnow
from tests.e2e.support import assert_accessible, assert_fits_the_screen

pytestmark = pytest.mark.parametrize("viewport", ["phone"])

SENT = "Fast geschafft: bitte E-Mail bestätigen"


def add_room(live_server, name: str) -> int:
    """A room of the Sport- und Bäderamt open round the clock, booked for an hour at least."""
    with live_server.app_context():
        department = db.session.scalar(
            select(Department).where(Department.name.like("Sport%")).limit(1)
        )
        room = Resource(
            name=name,
            kind="gym",
            department=department,
            slot_minutes=30,
            min_minutes=60,
            max_minutes=240,
            capacity=30,
            opening_hours=[
                OpeningHours(weekday=d, opens_minute=0, closes_minute=1440) for d in range(7)
            ],
        )
        db.session.add(room)
        db.session.commit()
        return room.id


def fill_form(page: Page, purpose: str, email: str) -> None:
    page.get_by_label("Zweck").fill(purpose)
    page.get_by_label("Anzahl Personen").fill("6")
    page.get_by_label("Privat").check()
    page.get_by_label("Ihr Name").fill("Paula Phone")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Telefon").fill("0151 390")


def test_find_a_free_hour_today_and_book_it(page: Page, live_server, shoot):
    add_room(live_server, "Raum Heute")
    with live_server.app_context():
        today = local_today()
        if minute_of_day(utcnow()) >= 23 * 60:
            pytest.skip("after 23:00 no hour of today is left to book")
    page.goto("/buchung/")
    page.get_by_role("link", name="Raum Heute").click()
    # Today first, alone on the screen: no past days, no table to scroll sideways.
    day = page.get_by_role("table", name=re.compile(f"{today:%d.%m.%Y}: geöffnet 0–24 Uhr"))
    expect(day).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("^Belegung"))).to_be_hidden()
    expect(page.get_by_role("navigation", name="Tag wählen")).to_contain_text(
        f"{today + timedelta(days=1):%d.%m.}"
    )
    assert_fits_the_screen(page)
    assert_accessible(page)
    shoot("today")

    day.get_by_role("link", name=re.compile("^frei")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Raum Heute buchen")
    expect(page.get_by_label("Datum")).to_have_value(today.isoformat())
    start = page.get_by_label("Beginn").input_value()
    hours, minutes = map(int, start.split(":"))
    end = (hours * 60 + minutes + 60) % 1440
    expect(page.get_by_label("Ende")).to_have_value(f"{end // 60:02d}:{end % 60:02d}")
    fill_form(page, "Handy heute", "paula-heute@example.org")
    assert_fits_the_screen(page)
    shoot("form")
    page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SENT)
    with live_server.app_context():
        booking = db.session.scalars(select(Booking).where(Booking.purpose == "Handy heute")).one()
        assert booking.starts_at == local_moment(today, hours * 60 + minutes)
        assert booking.ends_at - booking.starts_at == timedelta(hours=1)


def test_refused_booking_offers_the_next_free_time_and_it_books(
    page: Page, live_server, mailbox, shoot
):
    room = add_room(live_server, "Raum Ausweich")
    page.goto(f"/buchung/{room}")
    page.get_by_role("link", name=re.compile("Nächste Woche")).click()
    expect(page).to_have_url(re.compile(r"[?&]ab=\d{4}-\d{2}-\d{2}"))
    page.get_by_role("table", name=re.compile("geöffnet")).get_by_role(
        "link", name=re.compile("^frei")
    ).nth(18).click()  # 09:00 of that day
    expect(page.get_by_label("Beginn")).to_have_value("09:00")
    day = page.get_by_label("Datum").input_value()
    fill_form(page, "Handy Ausweich", "paula-ausweich@example.org")

    # Someone else takes 08:30–10:00 while the form is being filled in.
    with live_server.app_context():
        wished = local_moment(date.fromisoformat(day), 9 * 60)
        create_booking(
            db.session.get(Resource, room),
            wished - timedelta(minutes=30),
            wished + timedelta(hours=1),
            purpose="Schneller",
            contact=Contact("Schnell", "schnell@example.org", "0"),
        )
        db.session.commit()
    page.get_by_role("button", name="Verbindlich buchen").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Dieser Termin ist gerade vergeben.")
    expect(summary).to_contain_text("Raum Ausweich ist am")
    expect(summary).to_contain_text("08:30–10:00 belegt.")
    offers = page.get_by_role("region", name="Stattdessen frei")
    first_offer = offers.get_by_role("button", name=re.compile("10:00–11:00 buchen$"))
    expect(first_offer).to_be_visible()
    expect(offers.get_by_role("link", name=re.compile("^Auf die Warteliste"))).to_be_visible()
    assert_fits_the_screen(page)
    assert_accessible(page)
    shoot("refused")

    first_offer.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SENT)
    shoot("booked")
    assert (
        mailbox.latest(to="paula-ausweich@example.org")["Subject"]
        == "Bitte bestätigen Sie Ihre Buchung"
    )
    with live_server.app_context():
        booking = db.session.scalars(
            select(Booking).where(Booking.purpose == "Handy Ausweich")
        ).one()
        assert booking.starts_at == wished + timedelta(hours=1)
        assert booking.contact_name == "Paula Phone"
