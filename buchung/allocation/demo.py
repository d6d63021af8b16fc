"""Demo data: an open allocation round for the next season with a few applications."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from buchung.allocation.models import AllocationRound, PriorityClass
from buchung.allocation.services import create_request
from buchung.clock import local_today, monday_of
from buchung.club_models import Club, Season
from buchung.models import Resource, ResourceKind
from lotse.extensions import db
from lotse.models import utcnow

CLASSES = [("Schule", 1, False), ("Kita", 2, False), ("Wettkampf", 3, True)]
CLASSES += [("Training", 4, True), ("Gewerblich", 5, True)]


def seed() -> None:
    """The usual priority classes, a season in three months and its round over the halls."""
    if not db.session.scalar(select(PriorityClass)):
        db.session.add_all(PriorityClass(name=n, rank=r, open_to_clubs=o) for n, r, o in CLASSES)
        db.session.flush()
    halls = list(
        db.session.scalars(
            select(Resource).where(
                Resource.parent_id.is_(None),
                Resource.kind.in_([ResourceKind.HALL, ResourceKind.GYM]),
            )
        )
    )
    club = db.session.scalar(select(Club).where(Club.approved_at.is_not(None)).order_by(Club.id))
    if not halls or club is None:
        return
    first = monday_of(local_today()) + timedelta(weeks=13)
    season = Season(
        name=f"Saison ab {first:%d.%m.%Y}",
        first_day=first,
        last_day=first + timedelta(weeks=26, days=-1),
    )
    round_ = AllocationRound(
        name=f"Hallenvergabe {season.name}",
        season=season,
        deadline=utcnow() + timedelta(days=14),
        resources=halls,
    )
    db.session.add(round_)
    db.session.flush()
    training = db.session.scalar(select(PriorityClass).where(PriorityClass.name == "Training"))
    for team, days, start in (
        ("Kinderturnen", [0, 3], 16 * 60),
        ("Volleyball Damen", [2], 19 * 60),
    ):
        create_request(
            round_,
            club,
            team=team,
            priority_class=training,
            sessions_per_week=len(days),
            duration_minutes=90,
            first=(days, start),
            second=([1, 4], start + 60),
            hall_ids=[halls[0].id],
        )
