"""Quotas: a club may hold a hall (with its parts) at most so many hours a week."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

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
    usage: QuotaUsage | None = None,
) -> RuleViolation | None:
    """Why booking ``[starts_at, ends_at)`` would exceed the club's weekly quota, if it would.

    ``planned_minutes``: time the same week already takes in a series not yet booked (its
    earlier free dates), so a series that alone exceeds the quota is refused in the preview.
    ``moving``: a booking about to move to this time; its present time does not count.
    ``usage``: the club's usage of this hall read once for a range holding this time.
    """
    usage = usage or quota_usage(club, resource, starts_at, ends_at)
    return usage.violation(starts_at, ends_at, planned_minutes, moving)


class QuotaUsage:
    """A club's weekly quota on one hall and its active bookings there, week by week.

    Read once for a range of weeks (``quota_usage``), so a series checks each of its dates
    without asking the database again; ``add`` counts a date the series has just booked.
    """

    def __init__(self, hall: Resource, quota: ClubQuota | None):
        self.hall = hall
        self.quota = quota
        self._weeks: dict[date, list[Booking]] = defaultdict(list)

    def add(self, booking: Booking) -> None:
        """Count ``booking`` in every local week it touches."""
        monday = monday_of(to_local(booking.starts_at).date())
        last = monday_of(to_local(booking.ends_at - timedelta(microseconds=1)).date())
        while monday <= last:
            self._weeks[monday].append(booking)
            monday += timedelta(days=7)

    def violation(
        self,
        starts_at: datetime,
        ends_at: datetime,
        planned_minutes: int = 0,
        moving: Booking | None = None,
    ) -> RuleViolation | None:
        """See ``quota_violation``."""
        quota = self.quota
        if quota is None:
            return None
        monday = monday_of(to_local(starts_at).date())
        used = sum(
            (b.ends_at - b.starts_at for b in self._weeks.get(monday, ()) if b is not moving),
            timedelta(),
        ) // timedelta(minutes=1)
        wanted = (ends_at - starts_at) // timedelta(minutes=1)
        if used + planned_minutes + wanted <= quota.max_minutes:
            return None
        hall = self.hall
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


def quota_usage(club: Club, resource: Resource, start: datetime, end: datetime) -> QuotaUsage:
    """The club's quota on ``resource``'s hall and its bookings there in the local weeks
    that ``[start, end)`` touches: two queries, whatever the number of weeks."""
    hall = resource.root
    quota = db.session.scalar(
        select(ClubQuota).where(ClubQuota.club_id == club.id, ClubQuota.resource_id == hall.id)
    )
    usage = QuotaUsage(hall, quota)
    if quota is None:
        return usage
    first = monday_of(to_local(start).date())
    last = max(first, monday_of(to_local(end - timedelta(microseconds=1)).date()))
    ids = [hall.id, *(part.id for part in hall.parts)]
    for booking in _club_bookings(
        club, ids, local_moment(first, 0), local_moment(last + timedelta(days=7), 0)
    ):
        usage.add(booking)
    return usage


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
