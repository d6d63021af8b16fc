"""Season series of clubs: which dates a rule yields, their state, booking the free ones.

Every occurrence is a ``Booking`` made by ``create_booking`` (same rules, same slot
claim).  Booking "the free ones" claims each occurrence in its own SAVEPOINT, so one
occurrence lost to a faster booker does not undo the others.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from buchung.clock import local_moment, local_today, monday_of
from buchung.club_models import BookingSeries, Club
from buchung.models import ACTIVE_STATUSES, Booking, Resource
from buchung.services.availability import taken_units
from buchung.services.booking import (
    BookingRefused,
    SlotTaken,
    cancel,
    claim_slots,
    create_booking,
    release_slots,
    slot_starts,
)
from buchung.services.quotas import QuotaUsage, quota_usage, quota_usages, quota_violation
from buchung.services.rules import ClosedInterval, check_booking, closed_intervals, overlaps
from lotse.extensions import db
from lotse.models import User


@dataclass
class Planned:
    """One date of a series before booking: ``free``, ``conflict``, ``closed`` or ``refused``."""

    day: date
    starts_at: datetime
    ends_at: datetime
    state: str
    note: str = ""
    booking: Booking | None = None


def series_days(series: BookingSeries) -> list[date]:
    """The local dates the rule yields: its weekdays, every n weeks, within its range."""
    monday = series.first_day - timedelta(days=series.first_day.weekday())
    days = []
    week = 0
    while monday + timedelta(weeks=week) <= series.last_day:
        for weekday in sorted(series.weekday_list):
            day = monday + timedelta(weeks=week, days=weekday)
            if series.first_day <= day <= series.last_day:
                days.append(day)
        week += series.every_weeks
    return days


class PlanReads:
    """What previewing many series inside one window reads (a round's check: every
    allocation over the season), read once: the closures and held slots of each resource,
    the quota usage of all clubs on each hall.  Each date is still checked on its own, so
    reading the whole window instead of a series' own range changes no answer."""

    def __init__(self, series: list[BookingSeries], start: datetime, end: datetime):
        self.start, self.end = start, end
        self.closed: dict[int, list[ClosedInterval]] = {}
        self.taken: dict[int, Counter] = {}
        self.usage: dict[tuple[int, int], QuotaUsage] = {}
        halls: dict[int, tuple[Resource, dict[int, Club]]] = {}
        for one in series:
            hall = one.resource.root
            halls.setdefault(hall.id, (hall, {}))[1][one.club.id] = one.club
        for hall_id, (hall, clubs) in halls.items():
            for club_id, usage in quota_usages(list(clubs.values()), hall, start, end).items():
                self.usage[(club_id, hall_id)] = usage

    def of(self, series: BookingSeries) -> tuple[list[ClosedInterval], QuotaUsage, Counter]:
        resource = series.resource
        if resource.id not in self.closed:
            self.closed[resource.id] = closed_intervals(resource, self.start, self.end)
            self.taken[resource.id] = taken_units(resource, self.start, self.end)
        usage = self.usage[(series.club.id, resource.root.id)]
        return self.closed[resource.id], usage, self.taken[resource.id]


def preview(
    series: BookingSeries,
    *,
    by_office: bool = False,
    planned: dict[date, int] | None = None,
    reads: PlanReads | None = None,
) -> list[Planned]:
    """Every date of the series with its state, before anything is booked.

    ``by_office``: the booking office books it (a published season), so the booking
    horizon does not apply.  ``planned``: minutes per week (by Monday) that other series of
    the same club on the same hall will book before this one, counted against the quota.
    ``reads``: what several previews share, read once for all of them.
    """
    return _plan(series, by_office=by_office, others=planned, reads=reads)[0]


def _plan(
    series: BookingSeries,
    *,
    by_office: bool = False,
    others: dict[date, int] | None = None,
    reads: PlanReads | None = None,
) -> tuple[list[Planned], list[ClosedInterval], QuotaUsage]:
    """The preview, with the closures and the club's quota usage it read for the range.

    Closures and public holidays are read once for the whole range, the club's bookings
    for its quota once for all the weeks, held slots in one range scan of the slot table;
    each date is then checked in memory.
    """
    resource = series.resource
    days = series_days(series)
    if not days:
        return [], [], QuotaUsage(resource.root, None)
    start = local_moment(days[0], series.start_minute)
    end = local_moment(days[-1], series.end_minute)
    if reads is None:
        closed = closed_intervals(resource, start, end)
        usage = quota_usage(series.club, resource, start, end)
        taken = taken_units(resource, start, end)
    else:
        closed, usage, taken = reads.of(series)
    planned: list[Planned] = []
    week_minutes = dict(others or {})  # free dates per week not yet booked, for the quota
    for day in days:
        s, e = local_moment(day, series.start_minute), local_moment(day, series.end_minute)
        hit = next((c for c in closed if overlaps(s, e, c.starts_at, c.ends_at)), None)
        if hit is not None:
            planned.append(Planned(day, s, e, "closed", hit.title))
            continue
        week = monday_of(day)
        violations = check_booking(
            resource, s, e, club=series.club.approved, closed=closed, horizon=not by_office
        )
        over = usage.violation(s, e, week_minutes.get(week, 0))
        violations += filter(None, [over])
        if violations:
            planned.append(Planned(day, s, e, "refused", str(violations[0].message)))
        elif any(taken.get(slot) for slot in slot_starts(s, e)):
            planned.append(Planned(day, s, e, "conflict"))
        else:
            planned.append(Planned(day, s, e, "free"))
            week_minutes[week] = week_minutes.get(week, 0) + (e - s) // timedelta(minutes=1)
    return planned, closed, usage


def book_free(series: BookingSeries, *, office: User | None = None) -> list[Planned]:
    """Store the series and book every free date; a date lost meanwhile becomes a conflict.

    Each date is booked by ``create_booking`` in its own SAVEPOINT, its slot rows being
    the guard against a faster booker; the rules are checked against the closures and
    quota usage the preview read once.  Booked by the ``office`` (a published season), the
    dates are confirmed at once and reach beyond the booking horizon; the quota still
    counts.  Returns the preview with each booked date's ``booking`` set.
    """
    db.session.add(series)
    db.session.flush()
    planned, closed, usage = _plan(series, by_office=office is not None)
    for item in planned:
        if item.state != "free":
            continue
        try:
            with db.session.begin_nested():
                item.booking = create_booking(
                    series.resource,
                    item.starts_at,
                    item.ends_at,
                    purpose=series.purpose,
                    customer_group="club",
                    club=series.club,
                    series=series,
                    closed=closed,
                    usage=usage,
                    staff=office,
                )
        except BookingRefused as refused:
            item.state = "conflict" if isinstance(refused, SlotTaken) else "refused"
            item.note = str(refused.violations[0].message)
        else:
            usage.add(item.booking)
    return planned


def occurrences(series: BookingSeries) -> list[Booking]:
    """The series' bookings in date order (also cancelled ones)."""
    return list(
        db.session.scalars(
            select(Booking).where(Booking.series_id == series.id).order_by(Booking.starts_at)
        )
    )


def move(booking: Booking, starts_at: datetime, ends_at: datetime) -> None:
    """Move one occurrence to another time under the same rules and quota; ``SlotTaken`` if held.

    Its old time is released first, so a move by half an hour may overlap itself.
    """
    violations = check_booking(booking.resource, starts_at, ends_at, club=booking.club.approved)
    over = quota_violation(booking.club, booking.resource, starts_at, ends_at, moving=booking)
    violations += filter(None, [over])
    if violations:
        raise BookingRefused(violations)
    release_slots(booking)
    booking.starts_at, booking.ends_at = starts_at, ends_at
    db.session.flush()
    claim_slots(booking)


def cancel_rest(series: BookingSeries, reason: str) -> list[Booking]:
    """Cancel every coming occurrence of the series; their times are free again.

    No mail per date: the caller sends the club one mail listing the cancelled dates."""
    today = local_moment(local_today(), 0)
    cancelled = []
    for booking in occurrences(series):
        if booking.is_active and booking.starts_at >= today:
            cancel(booking, reason, tell=False)
            cancelled.append(booking)
    series.ended = True
    return cancelled


def club_bookings(club: Club, start: datetime, end: datetime) -> list[Booking]:
    """The club's active bookings in ``[start, end)``."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.club_id == club.id,
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.starts_at < end,
                Booking.ends_at > start,
            )
            .order_by(Booking.starts_at)
        )
    )


def bookable_for_clubs() -> list[Resource]:
    """Resources (halls and their parts) a club may hold a series on."""
    return list(
        db.session.scalars(
            select(Resource).where(Resource.active.is_(True)).order_by(Resource.name)
        )
    )
