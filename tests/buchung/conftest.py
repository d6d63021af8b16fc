"""Factories for booking tests: resources, halls with parts, bookings, and future dates."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from buchung.clock import local_moment
from buchung.models import Booking, BookingSlot, OpeningHours, Resource
from lotse.extensions import db
from lotse.models import Department


def next_weekday(weekday: int, weeks_ahead: int = 1) -> date:
    """A day of the given weekday at least a week ahead (never today, never a holiday risk)."""
    today = date.today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks_ahead)


def hhmm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


@pytest.fixture
def sport_id(app: Flask) -> int:
    """The department that manages the test resources."""
    with app.app_context():
        department = Department(name="Sport- und Bäderamt", email="sport@town.example")
        db.session.add(department)
        db.session.commit()
        return department.id


@pytest.fixture
def make_resource(app: Flask, sport_id: int) -> Callable[..., int]:
    """Create a resource (open daily 00:00–24:00 unless ``hours`` says otherwise); returns its id."""

    def make(
        name: str = "Gymnastikhalle", hours: tuple[str, str] = ("00:00", "24:00"), **kw: Any
    ) -> int:
        with app.app_context():
            defaults = dict(
                kind="gym",
                slot_minutes=30,
                min_minutes=30,
                max_minutes=480,
                horizon_days=800,
                capacity=50,
                department_id=sport_id,
            )
            defaults.update(kw)
            resource = Resource(name=name, **defaults)
            if "parent" not in kw:
                resource.opening_hours = [
                    OpeningHours(
                        weekday=d, opens_minute=hhmm(hours[0]), closes_minute=hhmm(hours[1])
                    )
                    for d in range(7)
                ]
            db.session.add(resource)
            db.session.commit()
            return resource.id

    return make


@pytest.fixture
def make_hall(app: Flask, make_resource) -> Callable[..., dict[str, int]]:
    """A divisible hall with parts; returns ``{"hall": id, "A": id, "B": id, ...}``."""

    def make(parts: str = "ABC", **kw: Any) -> dict[str, int]:
        hall_id = make_resource("Dreifachhalle", kind="hall", **kw)
        ids = {"hall": hall_id}
        with app.app_context():
            hall = db.session.get(Resource, hall_id)
            for letter in parts:
                part = Resource(
                    name=f"Drittel {letter}", kind="hall", parent=hall, department=hall.department
                )
                db.session.add(part)
                db.session.flush()
                ids[letter] = part.id
            db.session.commit()
        return ids

    return make


@pytest.fixture
def book(app: Flask) -> Callable[..., int]:
    """Book through the service inside its own app context and commit; returns the booking id."""
    from buchung.services.booking import Contact, create_booking
    from lotse.models import User

    def make(
        resource_id: int,
        day: date,
        start: str,
        end: str,
        *,
        staff_id: int | None = None,
        purpose: str = "Training",
        email: str = "gast@example.org",
        **kw: Any,
    ) -> int:
        with app.app_context():
            booking = create_booking(
                db.session.get(Resource, resource_id),
                local_moment(day, hhmm(start)),
                local_moment(day, hhmm(end)),
                purpose=purpose,
                contact=Contact("Gabi Gast", email, "0123"),
                staff=db.session.get(User, staff_id) if staff_id else None,
                **kw,
            )
            db.session.commit()
            return booking.id

    return make


@pytest.fixture
def counts(app: Flask) -> Callable[[], tuple[int, int]]:
    """(bookings, slot rows) in the database."""

    def count() -> tuple[int, int]:
        with app.app_context():
            return (
                db.session.scalar(select(func.count()).select_from(Booking)),
                db.session.scalar(select(func.count()).select_from(BookingSlot)),
            )

    return count


@pytest.fixture
def office(make_user, auth, sport_id: int) -> Callable[..., int]:
    """Log in a booking-office member of the test resources' department (or of ``departments``)."""

    def login(email: str = "buero@town.example", departments: tuple[int, ...] | None = None) -> int:
        departments = (sport_id,) if departments is None else departments
        user_id = make_user(
            email=email, roles=("booking_office",), departments=departments, name="Bea Buchung"
        )
        auth.login(email=email)
        return user_id

    return login


def local(day: date, text: str) -> datetime:
    return local_moment(day, hhmm(text))


CLUB_PASSWORD = "vereinspasswort"


@pytest.fixture
def make_club(app: Flask) -> Callable[..., dict[str, int]]:
    """A club with one confirmed login; returns ``{"club": id, "member": id}``."""
    from buchung.services.clubs import register_club
    from lotse.models import utcnow

    def make(
        name: str = "TV Musterstadt", email: str = "trainer@tv.example", approved: bool = True
    ) -> dict[str, int]:
        with app.app_context():
            member = register_club(
                name, "VR 1", "Tina Trainer", "Tina Trainer", email, CLUB_PASSWORD
            )
            member.confirmed_at = utcnow()
            if approved:
                member.club.approve()
            db.session.commit()
            return {"club": member.club_id, "member": member.id}

    return make


@pytest.fixture
def club_login(form_post) -> Callable[..., Any]:
    """Log a club login in through the club login form."""

    def login(email: str = "trainer@tv.example", password: str = CLUB_PASSWORD):
        return form_post("/buchung/verein/anmelden", {"email": email, "password": password})

    return login


def series_data(resource_id: int, first: date, last: date, **kw: Any) -> dict[str, Any]:
    """The series form's fields: Mondays 18:00–20:00 weekly by default."""
    data = {
        "resource_id": resource_id,
        "weekdays": [first.weekday()],
        "start": "18:00",
        "end": "20:00",
        "every_weeks": 1,
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "purpose": "Training",
    }
    data.update(kw)
    return data


@pytest.fixture
def book_series(form_post, club_login) -> Callable[..., Any]:
    """Log the club in and book the free dates of a series through the series form."""

    def book(resource_id: int, first: date, last: date, **kw: Any):
        club_login()
        data = series_data(resource_id, first, last, book_free="1", **kw)
        return form_post("/buchung/verein/serie/neu", data)

    return book


@pytest.fixture
def make_schedule(app: Flask) -> Callable[..., int]:
    """A Satzung valid from ``valid_from`` with ``tariffs`` [(resource id, group, unit, cents)]
    and the usual surcharges and reductions; returns its id."""

    def make(
        tariffs: list[tuple[int, str, str, int]],
        valid_from: date = date(2000, 1, 1),
        late_cancel_percent: int = 50,
    ) -> int:
        from buchung.fees.models import FeeAdjustment, FeeSchedule, Tariff

        with app.app_context():
            schedule = FeeSchedule(
                title=f"Satzung ab {valid_from}",
                valid_from=valid_from,
                late_cancel_percent=late_cancel_percent,
                tariffs=[
                    Tariff(resource_id=r, group_key=g, unit=u, amount_cents=c)
                    for r, g, u, c in tariffs
                ],
                adjustments=[
                    FeeAdjustment(name="Wochenendzuschlag", condition="weekend", percent=20),
                    FeeAdjustment(name="Jugendermäßigung", condition="youth", percent=-50),
                ],
            )
            db.session.add(schedule)
            db.session.commit()
            return schedule.id

    return make


@pytest.fixture
def bill_month(client, form_post, office) -> Callable[[date], list[str]]:
    """The office bills a month through the fee page; returns the bills' page paths."""

    logged_in = []

    def run(month: date) -> list[str]:
        if not logged_in:
            logged_in.append(office())
        response = form_post(
            "/verwaltung/buchung/gebuehren/abrechnen",
            {"month": month.replace(day=1).isoformat()},
            page="/verwaltung/buchung/gebuehren/",
        )
        assert response.status_code == 302
        listing = client.get(response.headers["Location"]).get_data(as_text=True)
        return sorted(set(re.findall(r'href="(/verwaltung/buchung/gebuehren/beleg/\d+)"', listing)))

    return run
