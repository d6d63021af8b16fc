"""Seasons (Saisons): the named date ranges the office plans club series and usage by."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from buchung.club_models import BookingSeries, Season
from lotse.extensions import db


def all_seasons() -> list[Season]:
    """Every season, the latest first."""
    return list(db.session.scalars(select(Season).order_by(Season.first_day.desc(), Season.name)))


def open_seasons(today: date) -> list[Season]:
    """Seasons a club can still plan a series in (not over yet), the earliest first."""
    return list(
        db.session.scalars(
            select(Season).where(Season.last_day >= today).order_by(Season.first_day, Season.name)
        )
    )


def season_for(today: date) -> Season | None:
    """The season running on ``today``, else the one that ended last (for the usage page)."""
    return db.session.scalar(
        select(Season)
        .where(Season.first_day <= today)
        .order_by((Season.last_day >= today).desc(), Season.last_day.desc(), Season.first_day)
        .limit(1)
    )


def name_taken(name: str, season: Season | None) -> bool:
    """Whether another season already has this name (names are unique, case aside)."""
    query = select(Season.id).where(func.lower(Season.name) == name.lower())
    if season is not None and season.id is not None:
        query = query.where(Season.id != season.id)
    return db.session.scalar(query) is not None


def series_counts() -> dict[int, int]:
    """How many club series each season holds."""
    rows = db.session.execute(
        select(BookingSeries.season_id, func.count())
        .where(BookingSeries.season_id.is_not(None))
        .group_by(BookingSeries.season_id)
    )
    return {season_id: count for season_id, count in rows}
