"""Quotas: a club may hold a hall (with its parts) at most so many hours a week.

A quota belongs to a season; one without a season is the default, applying in every season
that holds no quota of its own for the club and hall (and on dates outside any season).
Nothing carries over from one season to the next unless the office copies it (``copy_quotas``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from buchung.clock import local_moment, monday_of, to_local
from buchung.club_models import Club, ClubQuota, Season
from buchung.models import ACTIVE_STATUSES, Booking, Resource
from buchung.opening import hours_text
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

    def __init__(
        self,
        hall: Resource,
        quota: ClubQuota | None,
        seasons: list[tuple[date, date, ClubQuota]] | None = None,
    ):
        self.hall = hall
        self.quota = quota  # the default
        self.seasons = seasons or []  # (first day, last day, quota) of seasons with their own
        self._weeks: dict[date, list[Booking]] = defaultdict(list)

    def quota_on(self, day: date) -> ClubQuota | None:
        """The quota that applies on ``day``: its season's own, else the default."""
        for first, last, quota in self.seasons:
            if first <= day <= last:
                return quota
        return self.quota

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
        quota = self.quota_on(to_local(starts_at).date())
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
                    "Ihr Verein darf %(hall)s höchstens %(quota)s pro Woche belegen; "
                    "mit dieser Serie wären es in der Woche ab %(monday)s %(total)s.",
                    hall=hall.name,
                    quota=hours_text(quota.max_minutes),
                    monday=monday.strftime("%d.%m.%Y"),
                    total=hours_text(used + planned_minutes + wanted),
                ),
            )
        return RuleViolation(
            None,
            _l(
                "Ihr Verein darf %(hall)s höchstens %(quota)s pro Woche belegen; "
                "in der Woche ab %(monday)s sind schon %(used)s gebucht.",
                hall=hall.name,
                quota=hours_text(quota.max_minutes),
                monday=monday.strftime("%d.%m.%Y"),
                used=hours_text(used),
            ),
        )


def quota_usage(club: Club, resource: Resource, start: datetime, end: datetime) -> QuotaUsage:
    """The club's quotas on ``resource``'s hall (the default and those of the seasons the
    range touches) and its bookings there in the local weeks that ``[start, end)`` touches:
    two queries, whatever the number of weeks."""
    return quota_usages([club], resource, start, end)[club.id]


def quota_usages(
    clubs: list[Club], resource: Resource, start: datetime, end: datetime
) -> dict[int, QuotaUsage]:
    """``quota_usage`` of several clubs on one hall, by club id: two queries for all."""
    hall = resource.root
    first_day, last_day = to_local(start).date(), to_local(end).date()
    rows = db.session.execute(
        select(ClubQuota, Season)
        .outerjoin(Season, Season.id == ClubQuota.season_id)
        .where(
            ClubQuota.club_id.in_([club.id for club in clubs]),
            ClubQuota.resource_id == hall.id,
            or_(
                ClubQuota.season_id.is_(None),
                (Season.first_day <= last_day) & (Season.last_day >= first_day),
            ),
        )
        .order_by(Season.first_day.desc(), Season.id)
    ).all()
    usages = {}
    for club in clubs:
        own = [(q, season) for q, season in rows if q.club_id == club.id]
        default = next((q for q, season in own if season is None), None)
        seasons = [(season.first_day, season.last_day, q) for q, season in own if season]
        usages[club.id] = QuotaUsage(hall, default, seasons)
    with_quota = sorted({q.club_id for q, _season in rows})
    if not with_quota:
        return usages
    first = monday_of(first_day)
    last = max(first, monday_of(to_local(end - timedelta(microseconds=1)).date()))
    ids = [hall.id, *(part.id for part in hall.parts)]
    for booking in _club_bookings(
        with_quota, ids, local_moment(first, 0), local_moment(last + timedelta(days=7), 0)
    ):
        usages[booking.club_id].add(booking)
    return usages


def season_quotas(club_ids: set[int] | list[int], season: Season) -> dict[tuple[int, int], int]:
    """Weekly minutes per (club, hall) in ``season``: its own quota, else the default."""
    return {
        (quota.club_id, quota.resource_id): quota.max_minutes
        for rows in season_quota_rows(club_ids, season).values()
        for quota, _default in rows
    }


def season_quota_rows(
    club_ids: set[int] | list[int], season: Season
) -> dict[int, list[tuple[ClubQuota, bool]]]:
    """Per club, the quotas that apply in ``season`` with whether each is the default."""
    found: dict[int, list[tuple[ClubQuota, bool]]] = defaultdict(list)
    if not club_ids:
        return found
    seen: set[tuple[int, int]] = set()
    for quota in db.session.scalars(
        select(ClubQuota)
        .where(
            ClubQuota.club_id.in_(club_ids),
            or_(ClubQuota.season_id.is_(None), ClubQuota.season_id == season.id),
        )
        .order_by(ClubQuota.season_id.is_(None), ClubQuota.id)
    ):
        key = (quota.club_id, quota.resource_id)
        if key not in seen:
            seen.add(key)
            found[quota.club_id].append((quota, quota.season_id is None))
    return found


def _club_bookings(club_ids: list[int], resource_ids: list[int], start: datetime, end: datetime):
    return db.session.scalars(
        select(Booking).where(
            Booking.club_id.in_(club_ids),
            Booking.resource_id.in_(resource_ids),
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.starts_at < end,
            Booking.ends_at > start,
        )
    )


def set_quota(
    club: Club, hall: Resource, hours: float | None, season: Season | None = None
) -> None:
    """Set (or with ``None`` remove) the club's weekly quota for a hall in ``season`` (``None``:
    the default)."""
    quota = db.session.scalar(
        select(ClubQuota).where(
            ClubQuota.club_id == club.id,
            ClubQuota.resource_id == hall.id,
            ClubQuota.season_id.is_(None) if season is None else ClubQuota.season_id == season.id,
        )
    )
    if hours is None:
        if quota is not None:
            db.session.delete(quota)
        return
    if quota is None:
        quota = ClubQuota(
            club_id=club.id, resource_id=hall.id, season_id=None if season is None else season.id
        )
        db.session.add(quota)
    quota.max_minutes = round(hours * 60)
    db.session.flush()


def copy_quotas(
    source: Season, target: Season, hall_ids: list[int], overwrite: bool = False
) -> tuple[int, list[ClubQuota]]:
    """Copy ``source``'s own quotas in the given halls into ``target``.

    Returns (how many were copied, the target's quotas that differ and were not confirmed to
    be overwritten).  Unless ``overwrite``, nothing is written when any would be changed.
    """

    def own(season: Season) -> dict[tuple[int, int], ClubQuota]:
        return {
            (q.club_id, q.resource_id): q
            for q in db.session.scalars(
                select(ClubQuota).where(
                    ClubQuota.season_id == season.id, ClubQuota.resource_id.in_(hall_ids)
                )
            )
        }

    have = own(target)
    wanted = own(source)
    differing = [
        have[key]
        for key, q in wanted.items()
        if key in have and have[key].max_minutes != q.max_minutes
    ]
    if differing and not overwrite:
        return 0, differing
    copied = 0
    for key, quota in wanted.items():
        existing = have.get(key)
        if existing is None:
            db.session.add(
                ClubQuota(
                    club_id=quota.club_id,
                    resource_id=quota.resource_id,
                    season_id=target.id,
                    max_minutes=quota.max_minutes,
                )
            )
            copied += 1
        elif existing.max_minutes != quota.max_minutes:
            existing.max_minutes = quota.max_minutes
            copied += 1
    db.session.flush()
    return copied, []
