"""Publishing a round loses no date silently: the pre-publish check, quotas, the horizon.

Reproduces issue 18: a unit added by hand over the club's quota lost its whole series at
publishing, and every date beyond the 400-day club horizon was dropped; both without a
word before publishing, while page, mail and PDF said "zugeteilt".
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from buchung.allocation.models import (
    Allocation,
    AllocationRequest,
    AllocationRound,
    PriorityClass,
)
from buchung.allocation.services import create_request
from buchung.clock import local_moment, to_local
from buchung.club_models import BookingSeries, Club
from buchung.models import Booking, BookingStatus, Resource
from buchung.services.booking import create_booking
from buchung.services.quotas import set_quota
from lotse.extensions import db
from tests.buchung.allocation_helpers import class_id, end_deadline, make_round
from tests.buchung.conftest import CLUB_PASSWORD
from tests.conftest import csrf_token_from

pytestmark = pytest.mark.both_dbs


def monday_in(weeks: int) -> date:
    today = date.today()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)


def apply(app, round_id, club_id, team, weekday, start, hall_id, minutes=90):
    """One application through the service (the form is tested elsewhere)."""
    with app.app_context():
        create_request(
            db.session.get(AllocationRound, round_id),
            db.session.get(Club, club_id),
            team=team,
            priority_class=db.session.get(PriorityClass, class_id(app, "Training")),
            sessions_per_week=1,
            duration_minutes=minutes,
            first=([weekday], start * 60),
            second=None,
            hall_ids=[hall_id],
        )
        db.session.commit()


def outcome(app, round_id):
    """Per allocation: (team, dates the rule yields, dates booked, {day: reason} skipped)."""
    from buchung.services.series import series_days

    found = []
    with app.app_context():
        for allocation in db.session.scalars(
            select(Allocation)
            .join(AllocationRequest)
            .where(AllocationRequest.round_id == round_id)
            .order_by(Allocation.id)
        ):
            series = allocation.series
            booked = {
                to_local(b.starts_at).date()
                for b in db.session.scalars(
                    select(Booking).where(
                        Booking.series_id == allocation.series_id,
                        Booking.status == BookingStatus.CONFIRMED,
                    )
                )
            }
            found.append(
                (
                    allocation.request.team,
                    set(series_days(series)) if series else set(),
                    booked,
                    {s.day: (s.state, s.reason) for s in allocation.skips},
                )
            )
    return found


@pytest.fixture
def rurtal(app, make_resource, make_club):
    """SG Rurtal, 3 hours a week in the Nordhalle; a six-week round over the hall."""
    hall = make_resource("Nordhalle", kind="hall", hours=("08:00", "22:00"))
    club = make_club("SG Rurtal", "trainer@rurtal.example")["club"]
    with app.app_context():
        set_quota(db.session.get(Club, club), db.session.get(Resource, hall), 3)
        db.session.commit()
    first = monday_in(3)
    round_id = make_round(app, [hall], first, first + timedelta(weeks=6, days=-1))
    return hall, club, round_id


def test_a_unit_added_by_hand_over_the_quota_is_refused_at_once(
    app, client, office, form_post, rurtal
):
    hall, club, round_id = rurtal
    apply(app, round_id, club, "Herren", 0, 18, hall)
    apply(app, round_id, club, "Damen", 1, 18, hall)
    apply(app, round_id, club, "Jugend", 2, 17, hall)
    end_deadline(app, round_id)
    office()
    round_url = f"/verwaltung/buchung/vergabe/{round_id}"
    form_post(f"{round_url}/vorschlag", page=round_url)
    with app.app_context():
        jugend = db.session.scalar(
            select(AllocationRequest).where(AllocationRequest.team == "Jugend")
        )
        assert jugend.allocations == []  # the proposal kept the quota
        jugend_id = jugend.id

    grid_url = f"{round_url}/halle/{hall}"
    by_hand = {"request_id": jugend_id, "resource_id": hall, "weekday": 2, "start": "17:00"}
    response = form_post(grid_url, by_hand)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Kontingent" in text and "3 Stunden pro Woche" in text and "4,5 Stunden" in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Allocation)) == 2

    # What was allocated is booked, every date.
    form_post(f"{round_url}/veroeffentlichen", page=f"{round_url}/pruefen")
    found = outcome(app, round_id)
    assert len(found) == 2
    for _team, days, booked, skipped in found:
        assert all(state == "closed" for state, _reason in skipped.values())
        assert booked | set(skipped) == days and not booked & set(skipped)


def test_dates_beyond_the_club_horizon_are_booked_confirmed(
    app, client, office, form_post, make_resource, make_club
):
    """The office publishes to the season's end, confirmed: the club horizon (400 days) and
    the hall's approval only limit what clubs book themselves."""
    hall = make_resource(
        "Südhalle", kind="hall", hours=("08:00", "22:00"), horizon_days=180, needs_approval=True
    )
    club = make_club("SG Rurtal", "trainer@rurtal.example")["club"]
    first = monday_in(52)
    last = first + timedelta(weeks=10, days=-1)
    round_id = make_round(app, [hall], first, last)
    apply(app, round_id, club, "Herren", 0, 18, hall)
    end_deadline(app, round_id)
    office()
    round_url = f"/verwaltung/buchung/vergabe/{round_id}"
    form_post(f"{round_url}/vorschlag", page=round_url)
    form_post(f"{round_url}/veroeffentlichen", page=round_url)

    [(_team, days, booked, skipped)] = outcome(app, round_id)
    assert len(days) == 10
    assert {state for state, _reason in skipped.values()} <= {"closed"}, skipped
    assert booked | set(skipped) == days
    assert max(booked) > date.today() + timedelta(days=400)
    with app.app_context():
        statuses = set(db.session.scalars(select(Booking.status)))
    assert statuses == {BookingStatus.CONFIRMED}  # nothing waits in the office's queue

    # The club sees the series by weekday and time, not only by hall and team.
    club_browser = app.test_client()
    login = club_browser.get("/buchung/verein/anmelden").get_data(as_text=True)
    club_browser.post(
        "/buchung/verein/anmelden",
        data={
            "email": "trainer@rurtal.example",
            "password": CLUB_PASSWORD,
            "csrf_token": csrf_token_from(login),
        },
    )
    home = club_browser.get("/buchung/verein/").get_data(as_text=True)
    assert "Mo 18:00–19:30 Südhalle: Herren" in home
    rounds = club_browser.get("/buchung/verein/vergabe/").get_data(as_text=True)
    assert "Zweimal im Jahr" not in rounds


def test_gaps_are_listed_before_publishing_and_must_be_accepted(
    app, client, office, form_post, mailbox, rurtal
):
    """The club's own booking outside the round takes 1,5 of its 3 hours in one week: the
    check names the one date the Tuesday team loses, and publishing waits for acceptance."""
    hall, club, round_id = rurtal
    with app.app_context():
        first = db.session.get(AllocationRound, round_id).season.first_day
    week2 = first + timedelta(weeks=1)
    with app.app_context():
        create_booking(
            db.session.get(Resource, hall),
            local_moment(week2, 10 * 60),
            local_moment(week2, 11 * 60 + 30),
            purpose="Sondertraining",
            customer_group="club",
            club=db.session.get(Club, club),
        )
        db.session.commit()
    apply(app, round_id, club, "Herren", 0, 18, hall)
    apply(app, round_id, club, "Damen", 1, 18, hall)
    end_deadline(app, round_id)
    office()
    round_url = f"/verwaltung/buchung/vergabe/{round_id}"
    form_post(f"{round_url}/vorschlag", page=round_url)
    lost = (week2 + timedelta(days=1)).strftime("%d.%m.%Y")

    check = client.get(f"{round_url}/pruefen").get_data(as_text=True)
    assert "SG Rurtal" in check and "Damen" in check
    assert lost in check and "höchstens 3 Stunden" in check
    assert "Lücken akzeptieren" in check

    # Without acceptance nothing is booked.
    response = form_post(f"{round_url}/veroeffentlichen", page=f"{round_url}/pruefen")
    assert response.status_code == 400
    assert "Bitte akzeptieren Sie die Lücken" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BookingSeries)) == 0
        assert not db.session.get(AllocationRound, round_id).published

    page = client.get(f"{round_url}/pruefen").get_data(as_text=True)
    digest = re.search(r'name="gaps" type="hidden" value="([^"]*)"', page).group(1)
    response = form_post(
        f"{round_url}/veroeffentlichen",
        {"accept": "y", "gaps": digest},
        page=f"{round_url}/pruefen",
    )
    assert response.status_code == 302
    found = {
        team: (days, booked, skipped) for team, days, booked, skipped in outcome(app, round_id)
    }
    days, booked, skipped = found["Damen"]
    assert skipped[week2 + timedelta(days=1)][0] == "refused"
    assert booked | set(skipped) == days
    herren_days, herren_booked, herren_skipped = found["Herren"]
    assert herren_booked | set(herren_skipped) == herren_days

    # Honest figures: the round page and the club's mail count booked dates and the loss.
    total = len(days) + len(herren_days)
    booked_count = len(booked) + len(herren_booked)
    round_page = client.get(round_url).get_data(as_text=True)
    assert f"{booked_count} von {total} Terminen gebucht" in round_page
    assert "1 Termin fällt aus" in round_page
    hours = f"{booked_count * 1.5:g}".replace(".", ",")
    by_club = client.get(f"{round_url}/zahlen.csv?je=antragsteller").get_data(as_text=True)
    assert f"SG Rurtal;3;3;100 %;{booked_count};{total - booked_count};{hours}" in by_club
    mail = mailbox.text(mailbox.latest(to="trainer@rurtal.example"))
    assert f"{len(booked)} von {len(days)} Terminen gebucht" in mail
    assert "1 Termin fällt aus" in mail and lost in mail
