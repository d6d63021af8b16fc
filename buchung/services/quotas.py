"""Quotas: a club may hold a hall (with its parts) at most so many hours a week."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from buchung.clock import local_moment, monday_of, to_local
from buchung.club_models import Club, ClubQuota
from buchung.models import ACTIVE_STATUSES, Booking, Resource
from buchung.services.rules import RuleViolation
from lotse.extensions import db


def quota_violation(
    club: Club,
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    planned_minutes: int = 0,
    moving: Booking | None = None,
) -> RuleViolation | None:
    """Why booking ``[starts_at, ends_at)`` would exceed the club's weekly quota, if it would.

    ``planned_minutes``: time the same week already takes in a series not yet booked (its
    earlier free dates), so a series that alone exceeds the quota is refused in the preview.
    ``moving``: a booking about to move to this time; its present time does not count.
    """
    hall = resource.root
    quota = db.session.scalar(
        select(ClubQuota).where(ClubQuota.club_id == club.id, ClubQuota.resource_id == hall.id)
    )
    if quota is None:
        return None
    monday = monday_of(to_local(starts_at).date())
    week_start = local_moment(monday, 0)
    week_end = local_moment(monday + timedelta(days=7), 0)
    ids = [hall.id, *(part.id for part in hall.parts)]
    used = sum(
        (
            b.ends_at - b.starts_at
            for b in _club_bookings(club, ids, week_start, week_end)
            if b is not moving
        ),
        timedelta(),
    ) // timedelta(minutes=1)
    wanted = (ends_at - starts_at) // timedelta(minutes=1)
    if used + planned_minutes + wanted <= quota.max_minutes:
        return None
    if planned_minutes:
        return RuleViolation(
            None,
            _l(
                "Ihr Verein darf %(hall)s höchstens %(quota)s Stunden pro Woche belegen; "
                "mit dieser Serie wären es in der Woche ab %(monday)s %(total)s Stunden.",
                hall=hall.name,
                quota=_hours(quota.max_minutes),
                monday=monday.strftime("%d.%m.%Y"),
                total=_hours(used + planned_minutes + wanted),
            ),
        )
    return RuleViolation(
        None,
        _l(
            "Ihr Verein darf %(hall)s höchstens %(quota)s Stunden pro Woche belegen; "
            "in der Woche ab %(monday)s sind schon %(used)s Stunden gebucht.",
            hall=hall.name,
            quota=_hours(quota.max_minutes),
            monday=monday.strftime("%d.%m.%Y"),
            used=_hours(used),
        ),
    )


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}".replace(".", ",").removesuffix(",0")


def _club_bookings(club: Club, resource_ids: list[int], start: datetime, end: datetime):
    return db.session.scalars(
        select(Booking).where(
            Booking.club_id == club.id,
            Booking.resource_id.in_(resource_ids),
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.starts_at < end,
            Booking.ends_at > start,
        )
    )


def set_quota(club: Club, hall: Resource, hours: float | None) -> None:
    """Set (or with ``None`` remove) the club's weekly quota for a hall."""
    quota = db.session.scalar(
        select(ClubQuota).where(ClubQuota.club_id == club.id, ClubQuota.resource_id == hall.id)
    )
    if hours is None:
        if quota is not None:
            db.session.delete(quota)
        return
    if quota is None:
        quota = ClubQuota(club_id=club.id, resource_id=hall.id)
        db.session.add(quota)
    quota.max_minutes = round(hours * 60)
    db.session.flush()
