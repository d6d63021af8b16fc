"""Unused hall times: caretakers mark club bookings "nicht genutzt"; the office sees the rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select

from buchung.club_models import Club
from buchung.models import Booking, BookingStatus
from lotse.extensions import db
from lotse.models import utcnow


@dataclass(frozen=True)
class Usage:
    club: Club
    held: int  # confirmed club bookings that have ended
    unused: int

    @property
    def rate(self) -> float:
        """Share of held times that were used (1.0 when nothing was held)."""
        return 1 - self.unused / self.held if self.held else 1.0


def mark_unused(booking: Booking) -> bool:
    """A caretaker records that a club did not use its (started) time; ``False`` if not allowed."""
    if booking.club_id is None or booking.status != BookingStatus.CONFIRMED:
        return False
    if booking.starts_at > utcnow():
        return False
    booking.unused_at = booking.unused_at or utcnow()
    return True


def unmark_unused(booking: Booking) -> bool:
    """Undo "nicht genutzt" (a caretaker's slip); ``False`` when it was not marked."""
    if booking.unused_at is None:
        return False
    booking.unused_at = None
    return True


def usage_rates(start: datetime, end: datetime) -> list[Usage]:
    """Per club, the held and unused club bookings that ended in ``[start, end)``."""
    end = min(end, utcnow())
    rows = db.session.execute(
        select(
            Booking.club_id,
            func.count(),
            func.sum(case((Booking.unused_at.is_not(None), 1), else_=0)),
        )
        .where(
            Booking.club_id.is_not(None),
            Booking.status == BookingStatus.CONFIRMED,
            Booking.ends_at > start,
            Booking.ends_at <= end,
        )
        .group_by(Booking.club_id)
    ).all()
    clubs = {
        c.id: c for c in db.session.scalars(select(Club).where(Club.id.in_([r[0] for r in rows])))
    }
    return sorted(
        (Usage(clubs[club_id], held, unused or 0) for club_id, held, unused in rows),
        key=lambda u: (u.rate, u.club.name),
    )
