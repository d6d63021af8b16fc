"""The embedded default sweeps by itself: lapsed holds free their time, the waiting list hears.

No Redis, no worker, no ``flask lotse sweep``: the app's own sweep thread does it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from buchung.clock import local_moment
from buchung.models import Booking
from lotse.extensions import db
from lotse.models import utcnow
from lotse.sweeper import Sweeper, sweeper_of
from tests.buchung.conftest import hhmm, next_weekday
from tests.buchung.test_rules import booking_data

DAY = next_weekday(2)


@pytest.fixture
def app(make_app):
    """The embedded default with a one-minute hold and a sweep every fifth of a second."""
    app = make_app(EMBEDDED_SWEEP=True, SWEEP_INTERVAL=0.2, BUCHUNG_HOLD_MINUTES=1)
    yield app
    sweeper_of(app).stop()


def eventually(check: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def bookable_at(app, client, resource_id: int, start: str) -> bool:
    """Whether the week page offers the time as free (a link to the booking form)."""
    with app.app_context():
        moment = local_moment(DAY, hhmm(start)).strftime("%Y-%m-%dT%H:%MZ")
    page = client.get(f"/buchung/{resource_id}?woche={DAY.isoformat()}").get_data(as_text=True)
    return f"/buchung/{resource_id}/buchen?start={moment}" in page


def test_a_lapsed_hold_frees_its_time_and_the_waiting_list_is_offered_it_without_a_command(
    app, client, form_post, make_resource, mailbox
):
    hall = make_resource()
    held = form_post(
        f"/buchung/{hall}/buchen", booking_data(DAY, start="10:00", end="12:00")
    ).status_code
    assert held == 302
    assert "Bitte bestätigen" in mailbox.latest(to="gabi@example.org")["Subject"]
    waiting = {"day": DAY.isoformat(), "start": "10:00", "end": "11:00"}
    form_post(f"/buchung/{hall}/warteliste", {**waiting, "name": "Wanda", "email": "wanda@x.org"})
    assert not bookable_at(app, client, hall, "11:00")

    def offers() -> list:
        return [m for m in mailbox.messages(to="wanda@x.org") if "frei geworden" in m["Subject"]]

    assert not offers()  # joining is confirmed by mail; no time is offered yet

    with app.app_context():  # the guest's minute passes without a click on the link
        booking = db.session.scalar(select(Booking))
        hold = booking.hold_expires_at - booking.created_at
        assert timedelta(seconds=50) < hold <= timedelta(minutes=1, seconds=5)
        booking.hold_expires_at = utcnow()
        db.session.commit()

    assert eventually(lambda: bookable_at(app, client, hall, "11:00"))
    assert eventually(lambda: bool(offers()))
    assert "Warteliste" in offers()[0]["Subject"]
    assert not bookable_at(app, client, hall, "10:00")  # Wanda's offer holds it for her


def test_one_sweeper_per_instance_folder(app, make_app):
    second = make_app(EMBEDDED_SWEEP=True, SWEEP_INTERVAL=0.2)
    try:
        assert eventually(lambda: sweeper_of(app).is_holder or sweeper_of(second).is_holder)
        time.sleep(0.5)
        assert [sweeper_of(app).is_holder, sweeper_of(second).is_holder].count(True) == 1
        holder, other = (app, second) if sweeper_of(app).is_holder else (second, app)
        sweeper_of(holder).stop()  # the holder ends: the other takes over
        assert eventually(lambda: sweeper_of(other).is_holder)
    finally:
        sweeper_of(second).stop()


def test_the_sweeper_is_one_thread_per_app(app):
    assert isinstance(sweeper_of(app), Sweeper)
    mine = [t for t in threading.enumerate() if t.name == "lotse-sweep"]
    assert len(mine) == 1
