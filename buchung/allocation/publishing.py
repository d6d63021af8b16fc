"""Publishing a round: allocations become series, through the one series service.

``check`` computes, without writing, what publishing will book: per allocation every
date of the season, booked or not and why (closure or holiday, quota, conflict, another
rule), with the quota counted across the club's series in the order publishing books
them.  Dates lost to anything but a closure must be accepted by the office before it
publishes (``RoundCheck.digest`` names exactly what it accepted).  Once published, the
same ``check`` reads what was booked and skipped, so pages, mails and the council's
figures all count the same dates.

``publish`` books each allocation that has no series yet with
``buchung.services.series.book_free`` in the office's name: confirmed at once and to the
season's end whatever the club booking horizon (same closures, holidays, quota and slot
claim as a club's own series), and records every date that could not be booked, with its
reason.  Publishing again books nothing twice and mails nobody twice.  ``unpublish``
removes exactly the series the round created, with their occurrences.  Both run in a
background job (``buchung.allocation.jobs.run_publishing``), not in the office's request.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from buchung.allocation.models import (
    Allocation,
    AllocationRequest,
    AllocationRound,
    AllocationSkip,
    PriorityClass,
    ResultMail,
    RoundState,
)
from buchung.clock import local_moment, monday_of, to_local
from buchung.club_models import BookingSeries, Season
from buchung.models import ACTIVE_STATUSES, Booking, BookingNotice, BookingSlot
from buchung.services import series as series_service
from lotse.extensions import db
from lotse.models import utcnow

# Dates lost for these reasons need the office's acceptance; a closure or holiday does not.
NEEDS_ACCEPTANCE = ("refused", "conflict")


@dataclass
class DateResult:
    """One date of an allocation: booked, or not (``closed``, ``refused``, ``conflict``)."""

    day: date
    booked: bool
    state: str = "free"
    reason: str = ""


@dataclass
class UnitResult:
    """One allocation's dates over the season, as publishing books (or booked) them."""

    allocation: Allocation
    dates: list[DateResult]

    @property
    def booked(self) -> int:
        return sum(1 for d in self.dates if d.booked)

    @property
    def booked_minutes(self) -> int:
        return self.booked * self.allocation.minutes

    @property
    def gaps(self) -> list[DateResult]:
        return [d for d in self.dates if not d.booked]

    @property
    def booked_span(self) -> tuple[date, date] | None:
        """The first and the last booked date, for "vom … bis …"."""
        days = [d.day for d in self.dates if d.booked]
        return (days[0], days[-1]) if days else None

    def gap_groups(self) -> list[tuple[str, str, list[date]]]:
        """``(state, reason, days)`` per distinct reason, so a mail says "12 dates: …" once."""
        groups: dict[tuple[str, str], list[date]] = defaultdict(list)
        for gap in self.gaps:
            groups[(gap.state, gap.reason)].append(gap.day)
        return [(state, reason, days) for (state, reason), days in groups.items()]


@dataclass
class RoundCheck:
    """Every allocation's dates; totals for the round, per applicant and per application."""

    units: list[UnitResult] = field(default_factory=list)

    def by_allocation(self) -> dict[int, UnitResult]:
        return {u.allocation.id: u for u in self.units}

    @property
    def dates(self) -> int:
        return sum(len(u.dates) for u in self.units)

    @property
    def booked(self) -> int:
        return sum(u.booked for u in self.units)

    @property
    def booked_minutes(self) -> int:
        return sum(u.booked_minutes for u in self.units)

    @property
    def gaps(self) -> int:
        return self.dates - self.booked

    def to_accept(self) -> list[tuple[UnitResult, DateResult]]:
        """Dates lost to our own rules or to other bookings: the office must accept them."""
        return [(u, d) for u in self.units for d in u.gaps if d.state in NEEDS_ACCEPTANCE]

    @property
    def digest(self) -> str:
        """Names exactly the dates to accept; changes when any of them changes."""
        text = "\n".join(
            f"{u.allocation.id}:{d.day.isoformat()}:{d.state}:{d.reason}"
            for u, d in self.to_accept()
        )
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def lock(round_: AllocationRound) -> None:
    """Serialise publishing and un-publishing of one round (PostgreSQL row lock), so two
    office members clicking at once cannot both book the same allocation."""
    db.session.execute(
        select(AllocationRound.id).where(AllocationRound.id == round_.id).with_for_update()
    )


def round_allocations(round_: AllocationRound) -> list[Allocation]:
    """The round's allocations as committed now, highest priority class first."""
    return list(
        db.session.scalars(
            select(Allocation)
            .join(AllocationRequest)
            .join(PriorityClass)
            .where(AllocationRequest.round_id == round_.id)
            .order_by(PriorityClass.rank, AllocationRequest.id, Allocation.weekday, Allocation.id)
            .options(selectinload(Allocation.skips))
            .execution_options(populate_existing=True)
        )
    )


def season_series(allocation: Allocation, season: Season) -> BookingSeries:
    """The weekly series an allocation becomes, over the whole season (not yet stored)."""
    request = allocation.request
    return BookingSeries(
        club=request.club,
        resource=allocation.resource,
        weekdays=str(allocation.weekday),
        start_minute=allocation.start_minute,
        end_minute=allocation.end_minute,
        every_weeks=1,
        first_day=season.first_day,
        last_day=season.last_day,
        purpose=request.team,
        season_id=season.id,
    )


def check(round_: AllocationRound) -> RoundCheck:
    """What publishing will book (or, for series booked already, what it booked), per date.

    Writes nothing.  Allocations are planned in the order ``publish`` books them, each
    counting the minutes the club's earlier series of the round take of its quota.
    """
    allocations = round_allocations(round_)
    booked_days = _booked_days([a.series_id for a in allocations if a.series_id is not None])
    planned: dict[tuple[int, int], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    season = round_.season
    series = {a.id: season_series(a, season) for a in allocations if a.series_id is None}
    reads = series_service.PlanReads(
        list(series.values()),
        local_moment(season.first_day, 0),
        local_moment(season.last_day, 1440),
    )
    result = RoundCheck()
    for allocation in allocations:
        if allocation.series_id is not None:
            days = booked_days.get(allocation.series_id, set())
            dates = [DateResult(day, True) for day in sorted(days)]
            dates += [DateResult(s.day, False, s.state, s.reason) for s in allocation.skips]
            result.units.append(UnitResult(allocation, sorted(dates, key=lambda d: d.day)))
            continue
        key = (allocation.request.club_id, allocation.resource.root.id)
        dates = []
        for item in series_service.preview(
            series[allocation.id], by_office=True, planned=planned[key], reads=reads
        ):
            free = item.state == "free"
            if free:
                planned[key][monday_of(item.day)] += allocation.minutes
            dates.append(DateResult(item.day, free, item.state, "" if free else _reason(item)))
        result.units.append(UnitResult(allocation, dates))
    return result


def _reason(item: series_service.Planned) -> str:
    return item.note or _("Die Zeit ist schon belegt.")


def _booked_days(series_ids: list[int]) -> dict[int, set[date]]:
    """The local dates each series has an active booking on (one query)."""
    found: dict[int, set[date]] = defaultdict(set)
    if series_ids:
        for series_id, starts_at in db.session.execute(
            select(Booking.series_id, Booking.starts_at).where(
                Booking.series_id.in_(series_ids), Booking.status.in_(ACTIVE_STATUSES)
            )
        ):
            found[series_id].add(to_local(starts_at).date())
    return found


def publish(round_: AllocationRound) -> list[Allocation]:
    """Turn every allocation without a series into a booked series; queue one mail per applicant.

    The series are booked in the name of the office member who published (confirmed, to
    the season's end).  Returns the allocations booked now (none when the round was
    published already).
    """
    lock(round_)
    season = round_.season
    office = round_.published_by or round_.created_by
    booked_now = []
    for allocation in round_allocations(round_):
        if allocation.series_id is not None:
            continue
        series = season_series(allocation, season)
        planned = series_service.book_free(series, office=office)
        allocation.series = series
        for item in planned:
            if item.booking is None:
                allocation.skips.append(
                    AllocationSkip(day=item.day, state=item.state, reason=_reason(item))
                )
        booked_now.append(allocation)
    round_.state = RoundState.PUBLISHED
    round_.published_at = round_.published_at or utcnow()
    have_mail = set(
        db.session.scalars(select(ResultMail.club_id).where(ResultMail.round_id == round_.id))
    )
    for club_id in sorted({r.club_id for r in round_.requests} - have_mail):
        db.session.add(ResultMail(round_id=round_.id, club_id=club_id, created_at=utcnow()))
    db.session.flush()
    return booked_now


def created_series(round_: AllocationRound) -> list[BookingSeries]:
    """The series this round's publishing created (and only those)."""
    return list(
        db.session.scalars(
            select(BookingSeries)
            .join(Allocation, Allocation.series_id == BookingSeries.id)
            .join(AllocationRequest)
            .where(AllocationRequest.round_id == round_.id)
            .order_by(BookingSeries.id)
        )
    )


def unpublish(round_: AllocationRound) -> int:
    """Remove the series the round created with all their dates; the round is open again.

    The allocations stay, so the office can adjust and publish again.  Returns how many
    series were removed.
    """
    lock(round_)
    series_list = created_series(round_)
    series_ids = [s.id for s in series_list]
    if series_ids:
        booking_ids = select(Booking.id).where(Booking.series_id.in_(series_ids))
        db.session.execute(delete(BookingSlot).where(BookingSlot.booking_id.in_(booking_ids)))
        db.session.execute(delete(BookingNotice).where(BookingNotice.booking_id.in_(booking_ids)))
        db.session.execute(delete(Booking).where(Booking.series_id.in_(series_ids)))
        allocation_ids = select(Allocation.id).where(Allocation.series_id.in_(series_ids))
        db.session.execute(
            delete(AllocationSkip).where(AllocationSkip.allocation_id.in_(allocation_ids))
        )
        db.session.execute(
            Allocation.__table__.update()
            .where(Allocation.series_id.in_(series_ids))
            .values(series_id=None)
        )
        db.session.execute(delete(BookingSeries).where(BookingSeries.id.in_(series_ids)))
    db.session.execute(delete(ResultMail).where(ResultMail.round_id == round_.id))
    round_.state = RoundState.OPEN
    round_.published_at = None
    db.session.flush()
    db.session.expire_all()
    return len(series_ids)
