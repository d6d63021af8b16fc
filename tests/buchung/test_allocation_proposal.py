"""The proposal's rules one by one: fairness, quotas, closures, opening hours, determinism."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from buchung.allocation.models import AllocationRequest, AllocationRound, PriorityClass
from buchung.allocation.proposal import propose
from buchung.allocation.services import create_request, explain, reason_text
from buchung.clock import local_moment
from buchung.club_models import Club
from buchung.models import Closure, Resource
from buchung.services.quotas import set_quota
from lotse.extensions import db
from tests.buchung.allocation_helpers import make_round

pytestmark = pytest.mark.both_dbs


def monday_in(weeks: int) -> date:
    today = date.today()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)


@pytest.fixture
def hall_round(app, make_resource):
    """One hall open 08–22 and a six-week round over it, starting in three weeks."""
    hall = make_resource("Nordhalle", kind="hall", hours=("08:00", "22:00"))
    first = monday_in(3)
    return hall, make_round(app, [hall], first, first + timedelta(weeks=6, days=-1))


def apply(
    round_id,
    club_name,
    team,
    weekdays,
    start,
    hall_id,
    *,
    sessions=1,
    minutes=120,
    klass="Training",
    second=None,
):
    round_ = db.session.get(AllocationRound, round_id)
    club = db.session.scalar(select(Club).where(Club.name == club_name))
    if club is None:
        club = Club(name=club_name)
        club.approve()
        db.session.add(club)
    return create_request(
        round_,
        club,
        team=team,
        priority_class=db.session.scalar(select(PriorityClass).where(PriorityClass.name == klass)),
        sessions_per_week=sessions,
        duration_minutes=minutes,
        first=(weekdays, start * 60),
        second=(second[0], second[1] * 60) if second else None,
        hall_ids=[hall_id],
    )


def granted(round_id):
    round_ = db.session.get(AllocationRound, round_id)
    return {
        r.team: sorted((a.weekday, a.start_minute) for a in r.allocations) for r in round_.requests
    }


def test_equal_clubs_share_hours_fairly_whatever_the_order(app, hall_round):
    """Three clubs want the same evening on three days, three times a week: one each."""
    hall, round_id = hall_round
    with app.app_context():
        for name in ("A-Verein", "B-Verein", "C-Verein"):
            apply(round_id, name, f"Team {name}", [0, 2, 4], 18, hall, sessions=3)
        propose(db.session.get(AllocationRound, round_id))
        first = granted(round_id)
        assert sorted(len(v) for v in first.values()) == [1, 1, 1]
        assert {v[0] for v in first.values()} == {(0, 1080), (2, 1080), (4, 1080)}
        # Deterministic: the same result every time.
        propose(db.session.get(AllocationRound, round_id))
        assert granted(round_id) == first


def test_smaller_request_is_not_crowded_out_by_a_bigger_one(app, hall_round):
    """Fair share in hours: the club asking for less still gets its evening."""
    hall, round_id = hall_round
    with app.app_context():
        apply(round_id, "Groß", "Viel", [0, 1, 2, 3, 4], 18, hall, sessions=5)
        apply(round_id, "Klein", "Wenig", [2], 18, hall)
        propose(db.session.get(AllocationRound, round_id))
        result = granted(round_id)
        assert result["Wenig"] == [(2, 1080)]
        assert result["Viel"] == [(0, 1080), (1, 1080), (3, 1080), (4, 1080)]


def test_higher_class_first_even_if_it_applied_last(app, hall_round):
    hall, round_id = hall_round
    with app.app_context():
        apply(round_id, "TV", "Herren", [1], 17, hall)
        apply(round_id, "HC", "A-Jugend", [1], 17, hall, klass="Wettkampf")
        propose(db.session.get(AllocationRound, round_id))
        assert granted(round_id) == {"Herren": [], "A-Jugend": [(1, 1020)]}
        herren = db.session.scalar(
            select(AllocationRequest).where(AllocationRequest.team == "Herren")
        )
        with app.test_request_context():
            assert [reason_text(n.reason, n.detail) for n in herren.notes] == [
                "vergeben an eine höhere Prioritätsklasse (Wettkampf)"
            ]


def test_quota_is_honoured(app, hall_round):
    hall, round_id = hall_round
    with app.app_context():
        request = apply(round_id, "TV", "Herren", [0, 2], 18, hall, sessions=2)
        set_quota(request.club, db.session.get(Resource, hall), 3)
        propose(db.session.get(AllocationRound, round_id))
        assert granted(round_id) == {"Herren": [(0, 1080)]}
        assert [n.reason for n in request.notes] == ["quota"]
        with app.test_request_context():
            assert "Kontingent" in reason_text("quota", request.notes[0].detail)


@pytest.mark.parametrize(
    ("closed_weeks", "allocated"),
    [(6, False), (4, False), (1, True)],  # a closure on a single date only skips that date
)
def test_weekly_closure_over_most_of_the_season_is_honoured(
    app, hall_round, closed_weeks, allocated
):
    hall, round_id = hall_round
    with app.app_context():
        round_ = db.session.get(AllocationRound, round_id)
        first_tuesday = round_.season.first_day + timedelta(days=1)
        db.session.add(
            Closure(
                resource_id=hall,
                title="Hallensanierung",
                starts_at=local_moment(first_tuesday, 16 * 60),
                ends_at=local_moment(first_tuesday, 22 * 60),
                weekly=True,
                repeat_until=first_tuesday + timedelta(weeks=closed_weeks - 1),
            )
        )
        request = apply(round_id, "TV", "Herren", [1], 18, hall)
        propose(db.session.get(AllocationRound, round_id))
        assert bool(request.allocations) is allocated
        if not allocated:
            assert [(n.reason, n.detail) for n in request.notes] == [("closure", "Hallensanierung")]


def test_outside_opening_hours_falls_back_to_second_choice(app, hall_round):
    hall, round_id = hall_round
    with app.app_context():
        request = apply(round_id, "TV", "Frühsport", [3], 6, hall, second=([3], 8))
        propose(db.session.get(AllocationRound, round_id))
        assert [(a.weekday, a.start_minute, a.choice) for a in request.allocations] == [(3, 480, 2)]
        assert [n.reason for n in request.notes] == ["outside_hours"]
        with app.test_request_context():
            assert "Zweitwunsch" in explain(request.allocations[0])


@pytest.mark.parametrize(("turns", "expected"), [("club", (2, 2)), ("teams", (3, 1))])
def test_turns_per_club_or_weighted_by_teams(app, hall_round, turns, expected):
    """Four evenings; a club with three teams against a club with one team wanting all four:
    per club each gets two evenings, weighted by teams the three teams get one each."""
    hall, round_id = hall_round
    with app.app_context():
        db.session.get(AllocationRound, round_id).turns = turns
        for team in ("Herren", "Damen", "Jugend"):
            apply(round_id, "Großverein", team, [0, 1, 2, 3], 18, hall)
        apply(round_id, "Kleinverein", "Erste", [0, 1, 2, 3], 18, hall, sessions=4)
        propose(db.session.get(AllocationRound, round_id))
        db.session.commit()
        got = granted(round_id)
    big = sum(len(got[t]) for t in ("Herren", "Damen", "Jugend"))
    assert (big, len(got["Erste"])) == expected


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ((300, 100), (3, 1)),  # three times the members, three times the hours
        ((100, 100), (2, 2)),
        ((None, 100), (2, 2)),  # a missing count counts like the smallest known one
        ((None, None), (2, 2)),  # nobody entered one: per club
        ((100, 300), (1, 3)),
    ],
)
def test_turns_weighted_by_members(app, hall_round, members, expected):
    """Four evenings wanted by two clubs of one team each: with turns by members, hours
    follow the member counts, whatever the order of applications."""
    hall, round_id = hall_round
    with app.app_context():
        db.session.get(AllocationRound, round_id).turns = "members"
        clubs = zip(("Großverein", "Kleinverein"), ("Erste", "Zweite"), members, strict=True)
        for name, team, count in clubs:
            apply(round_id, name, team, [0, 1, 2, 3], 18, hall, sessions=4)
            db.session.scalar(select(Club).where(Club.name == name)).member_count = count
        db.session.commit()
        propose(db.session.get(AllocationRound, round_id))
        db.session.commit()
        first = granted(round_id)
        propose(db.session.get(AllocationRound, round_id))  # deterministic: same again
        db.session.commit()
        assert granted(round_id) == first
    assert (len(first["Erste"]), len(first["Zweite"])) == expected
