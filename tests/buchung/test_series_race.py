"""A club books a season series while guests book single dates of it through a real server.

Per slot exactly one wins: every date ends up with the club's occurrence or one guest's
booking, never both and never none; lost dates are left out of the series, not a 500.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from buchung.models import Booking, BookingSlot
from lotse.extensions import db
from tests.buchung.conftest import CLUB_PASSWORD, next_weekday, series_data
from tests.buchung.test_concurrency import server  # noqa: F401 - the gunicorn fixture
from tests.buchung.test_rules import booking_data
from tests.conftest import csrf_token_from

pytestmark = [pytest.mark.both_dbs, pytest.mark.slow]

WEEKS = 6


def test_series_and_single_bookings_race_one_winner_per_slot(app, server, make_resource, make_club):  # noqa: F811
    hall = make_resource()
    make_club()
    first = next_weekday(0)
    days = [first + timedelta(weeks=n) for n in range(WEEKS)]
    barrier = threading.Barrier(WEEKS + 1)
    codes: list[int] = []

    def club() -> None:
        with requests.Session() as session:
            login = f"{server}/buchung/verein/anmelden"
            token = csrf_token_from(session.get(login, timeout=30).text)
            session.post(
                login,
                data={
                    "email": "trainer@tv.example",
                    "password": CLUB_PASSWORD,
                    "csrf_token": token,
                },
                timeout=30,
            )
            url = f"{server}/buchung/verein/serie/neu"
            token = csrf_token_from(session.get(url, timeout=30).text)
            data = series_data(hall, days[0], days[-1], book_free="1", csrf_token=token)
            barrier.wait(timeout=30)
            codes.append(
                session.post(url, data=data, allow_redirects=False, timeout=60).status_code
            )

    def guest(n: int) -> None:
        url = f"{server}/buchung/{hall}/buchen"
        with requests.Session() as session:
            token = csrf_token_from(session.get(url, timeout=30).text)
            data = booking_data(
                days[n],
                start="18:00",
                end="20:00",
                contact_email=f"g{n}@example.org",
                csrf_token=token,
            )
            barrier.wait(timeout=30)
            codes.append(
                session.post(url, data=data, allow_redirects=False, timeout=60).status_code
            )

    threads = [threading.Thread(target=club)] + [
        threading.Thread(target=guest, args=(n,)) for n in range(WEEKS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert len(codes) == WEEKS + 1 and all(code in (200, 302, 409) for code in codes), codes
    with app.app_context():
        bookings = db.session.scalars(select(Booking)).all()
        for booking in bookings:
            owned = db.session.scalars(
                select(BookingSlot).where(BookingSlot.booking_id == booking.id)
            ).all()
            assert len(owned) == 8  # 18:00–20:00 in 15-minute slots
        winners = sorted(b.starts_at for b in bookings)
        assert len(winners) == WEEKS == len(set(winners))  # each date: exactly one winner
