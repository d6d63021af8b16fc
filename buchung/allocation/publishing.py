"""Publishing a round: allocations become series, through the one series service.

``publish`` books each allocation that has no series yet with
``buchung.services.series.book_free`` (the same rules, closures, holidays and slot claim
as a club's own series) and records every date that could not be booked, with its
reason.  Publishing again books nothing twice and mails nobody twice.  ``unpublish``
removes exactly the series the round created, with their occurrences.  Both run in a
background job (``buchung.allocation.jobs.run_publishing``), not in the office's request.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select

from buchung.allocation.models import (
    Allocation,
    AllocationRequest,
    AllocationRound,
    AllocationSkip,
    PriorityClass,
    ResultMail,
    RoundState,
)
from buchung.club_models import BookingSeries
from buchung.models import Booking, BookingNotice, BookingSlot
from buchung.services import series as series_service
from lotse.extensions import db
from lotse.models import utcnow


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
            .execution_options(populate_existing=True)
        )
    )


def publish(round_: AllocationRound) -> list[Allocation]:
    """Turn every allocation without a series into a booked series; queue one mail per applicant.

    Returns the allocations booked now (none when the round was published already).
    """
    lock(round_)
    season = round_.season
    booked_now = []
    for allocation in round_allocations(round_):
        if allocation.series_id is not None:
            continue
        request = allocation.request
        series = BookingSeries(
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
        planned = series_service.book_free(series)
        allocation.series = series
        for item in planned:
            if item.booking is None:
                reason = item.note or _("Die Zeit ist schon belegt.")
                allocation.skips.append(
                    AllocationSkip(day=item.day, state=item.state, reason=reason)
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
