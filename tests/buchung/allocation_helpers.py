"""Fixtures and helpers shared by the season allocation tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from buchung.allocation.models import AllocationRound, PriorityClass
from buchung.club_models import Season
from lotse.extensions import db
from lotse.models import utcnow

CLASSES = [("Schule", 1, False), ("Kita", 2, False), ("Wettkampf", 3, True), ("Training", 4, True)]


def weekday_holiday(app: Flask, min_days: int = 21) -> date:
    """The next public holiday on Monday to Friday at least ``min_days`` ahead."""
    from buchung.services.rules import public_holidays

    with app.app_context():
        start = date.today() + timedelta(days=min_days)
        found = public_holidays(start, start + timedelta(days=400))
    return min(day for day in found if day.weekday() < 5)


def season_around(day: date) -> tuple[date, date]:
    """Four weeks, Monday to Sunday, with ``day`` in the third week."""
    monday = day - timedelta(days=day.weekday())
    return monday - timedelta(weeks=2), monday + timedelta(weeks=2, days=-1)


def make_round(app: Flask, hall_ids: list[int], first: date, last: date, **kw: Any) -> int:
    """Priority classes, a season and an open round over ``hall_ids``; returns the round id."""
    from buchung.models import Resource

    with app.app_context():
        if not db.session.scalar(select(PriorityClass)):
            db.session.add_all(
                PriorityClass(name=n, rank=r, open_to_clubs=o) for n, r, o in CLASSES
            )
        season = Season(name=f"Saison {first.isoformat()}", first_day=first, last_day=last)
        round_ = AllocationRound(
            name=kw.get("name", "Wintervergabe"),
            season=season,
            deadline=kw.get("deadline", utcnow() + timedelta(days=1)),
            resources=[db.session.get(Resource, rid) for rid in hall_ids],
        )
        db.session.add(round_)
        db.session.commit()
        return round_.id


def class_id(app: Flask, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(PriorityClass.id).where(PriorityClass.name == name))


def application(
    team: str,
    priority_class: int,
    halls: list[int],
    first: tuple[list[int], str],
    second: tuple[list[int], str] | None = None,
    *,
    sessions: int = 1,
    minutes: int = 90,
) -> dict[str, Any]:
    """The application form's fields."""
    data: dict[str, Any] = {
        "team": team,
        "priority_class_id": priority_class,
        "sessions_per_week": sessions,
        "duration_minutes": minutes,
        "first_weekdays": first[0],
        "first_start": first[1],
        "hall_1": halls[0],
        "hall_2": halls[1] if len(halls) > 1 else 0,
        "hall_3": halls[2] if len(halls) > 2 else 0,
    }
    if second:
        data["second_weekdays"] = second[0]
        data["second_start"] = second[1]
    return data


def end_deadline(app: Flask, round_id: int) -> None:
    """Let the application deadline pass."""
    with app.app_context():
        db.session.get(AllocationRound, round_id).deadline = utcnow() - timedelta(minutes=1)
        db.session.commit()
