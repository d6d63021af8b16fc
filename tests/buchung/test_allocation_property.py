"""Property test over random rounds: publishing loses nothing and breaks no rule.

Random halls (one divisible), clubs with and without quotas, bookings the clubs hold
already, applications, the proposal and a unit added by hand.  After publishing:
booked hours per club and hall stay within the weekly quota, no unit's slot is booked
twice, every allocated date is either booked or listed with a reason, and the pre-publish
check predicted exactly that.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from buchung.allocation.models import AllocationRound, PriorityClass
from buchung.allocation.proposal import propose
from buchung.allocation.publishing import check, publish
from buchung.allocation.services import AllocationRefused, add_allocation, create_request
from buchung.clock import local_moment, monday_of, to_local
from buchung.club_models import Club, ClubQuota, Season
from buchung.models import ACTIVE_STATUSES, Booking, BookingStatus, OpeningHours, Resource
from buchung.services.booking import BookingRefused, create_booking, slot_starts
from buchung.services.series import series_days
from lotse.extensions import db
from lotse.models import User, utcnow
from tests.buchung.allocation_helpers import CLASSES

pytestmark = pytest.mark.both_dbs

counter = itertools.count()

application = st.fixed_dictionaries(
    {
        "club": st.integers(0, 2),
        "klass": st.sampled_from(["Wettkampf", "Training"]),
        "weekdays": st.lists(st.integers(0, 4), min_size=1, max_size=2, unique=True),
        "start": st.sampled_from([16 * 60, 17 * 60, 18 * 60, 18 * 60 + 30]),
        "minutes": st.sampled_from([60, 90, 120]),
        "sessions": st.integers(1, 2),
        "unit": st.integers(0, 2),  # 0: the whole hall, 1/2: a part
    }
)
rounds = st.fixed_dictionaries(
    {
        "quotas": st.lists(st.sampled_from([None, 90, 180, 240]), min_size=3, max_size=3),
        "held": st.lists(
            st.tuples(st.integers(0, 2), st.integers(0, 13), st.sampled_from([17, 18, 19])),
            max_size=4,
        ),
        "applications": st.lists(application, min_size=1, max_size=6),
        "by_hand": st.tuples(st.integers(0, 5), st.integers(0, 4), st.sampled_from([17, 19])),
    }
)


def build(data: dict, staff: User, department_id: int) -> AllocationRound:
    """A fresh hall with two parts, three clubs, their quotas and bookings, and a round."""
    n = next(counter)
    # The season runs past the club booking horizon (400 days): the office books it all.
    first = date.today() - timedelta(days=date.today().weekday()) + timedelta(weeks=55)
    hall = Resource(
        name=f"Halle {n}",
        kind="hall",
        slot_minutes=30,
        min_minutes=30,
        max_minutes=480,
        horizon_days=30,
        needs_approval=True,
        department_id=department_id,
        opening_hours=[
            OpeningHours(weekday=d, opens_minute=480, closes_minute=1320) for d in range(7)
        ],
    )
    parts = [
        Resource(name=f"Teil {x}", kind="hall", parent=hall, department_id=department_id)
        for x in "AB"
    ]
    units = [hall, *parts]
    clubs = []
    for i in range(len(data["quotas"])):
        club = Club(name=f"Verein {n}-{i}")
        club.approve()
        db.session.add(club)
        clubs.append(club)
    db.session.add_all([hall, *parts])
    db.session.flush()
    for club, quota in zip(clubs, data["quotas"], strict=True):
        if quota is not None:
            db.session.add(ClubQuota(club_id=club.id, resource_id=hall.id, max_minutes=quota))
    db.session.flush()
    for i, day, hour in data["held"]:
        try:
            with db.session.begin_nested():
                create_booking(
                    parts[0],
                    local_moment(first + timedelta(days=day), hour * 60),
                    local_moment(first + timedelta(days=day), hour * 60 + 60),
                    purpose="eigene Buchung",
                    customer_group="club",
                    club=clubs[i],
                )
        except BookingRefused:
            pass
    classes = {c.name: c for c in db.session.scalars(select(PriorityClass))}
    season = Season(
        name=f"Saison {n}", first_day=first, last_day=first + timedelta(weeks=6, days=-1)
    )
    round_ = AllocationRound(
        name=f"Runde {n}",
        season=season,
        deadline=utcnow() - timedelta(minutes=1),
        resources=[hall],
        created_by=staff,
    )
    db.session.add(round_)
    db.session.flush()
    for i, a in enumerate(data["applications"]):
        create_request(
            round_,
            clubs[a["club"]],
            team=f"Team {i}",
            priority_class=classes[a["klass"]],
            sessions_per_week=a["sessions"],
            duration_minutes=a["minutes"],
            first=(a["weekdays"], a["start"]),
            second=None,
            hall_ids=[units[a["unit"]].id],
        )
    propose(round_)
    which, weekday, hour = data["by_hand"]
    requests = round_.requests
    try:
        with db.session.begin_nested():
            add_allocation(requests[which % len(requests)], hall, weekday, hour * 60)
    except AllocationRefused:
        pass
    db.session.flush()
    return round_


@pytest.fixture
def publisher(make_user) -> int:
    """The office member who publishes (once per test: hashing a password is slow)."""
    return make_user(email="buero@town.example", roles=("booking_office",))


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=rounds)
def test_publishing_keeps_quotas_books_no_slot_twice_and_loses_nothing(
    app, publisher, sport_id, data
):
    with app.test_request_context():  # hand edits explain themselves in German
        if not db.session.scalar(select(PriorityClass)):
            db.session.add_all(
                PriorityClass(name=n, rank=r, open_to_clubs=o) for n, r, o in CLASSES
            )
        try:
            _publish_and_verify(data, publisher, sport_id)
        finally:
            db.session.rollback()


def _publish_and_verify(data: dict, staff_id: int, department_id: int) -> None:
    """Build the round, check, publish (as the job does), and verify the properties."""
    round_ = build(data, db.session.get(User, staff_id), department_id)
    predicted = {
        u.allocation.id: {(d.day, d.booked, d.state) for d in u.dates} for u in check(round_).units
    }
    round_.published_by_id = staff_id
    publish(round_)
    db.session.flush()

    hall = round_.resources[0]
    unit_ids = {r.id: set(r.unit_ids()) for r in [hall, *hall.parts]}
    # Every allocated date is booked or listed with a reason, as the check said.
    for unit in check(round_).units:
        allocation = unit.allocation
        days = set(series_days(allocation.series))
        listed = {d.day for d in unit.dates}
        assert listed == days
        assert all(d.reason for d in unit.gaps)
        # Only a closure, another booking or the quota may take a date; never the horizon.
        assert all(
            d.state in ("closed", "conflict") or "Stunden pro Woche" in d.reason for d in unit.gaps
        ), unit.gaps
        assert {(d.day, d.booked, d.state) for d in unit.dates} == predicted[allocation.id]

    bookings = list(
        db.session.scalars(
            select(Booking).where(
                Booking.resource_id.in_(list(unit_ids)), Booking.status.in_(ACTIVE_STATUSES)
            )
        )
    )
    assert all(
        b.status == BookingStatus.CONFIRMED for b in bookings if b.series_id is not None
    )  # the office decided: nothing waits for approval
    # No slot of any unit twice.
    seen = set()
    for b in bookings:
        for unit in unit_ids[b.resource_id]:
            for slot in slot_starts(b.starts_at, b.ends_at):
                assert (unit, slot) not in seen
                seen.add((unit, slot))
    # Within the quota, week by week.
    quotas = {
        q.club_id: q.max_minutes
        for q in db.session.scalars(select(ClubQuota).where(ClubQuota.resource_id == hall.id))
    }
    used: dict[tuple[int, date], int] = defaultdict(int)
    for b in bookings:
        week = monday_of(to_local(b.starts_at).date())
        used[(b.club_id, week)] += (b.ends_at - b.starts_at) // timedelta(minutes=1)
    for (club_id, _week), minutes in used.items():
        assert minutes <= quotas.get(club_id, minutes)
