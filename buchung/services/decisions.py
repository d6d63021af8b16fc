"""The booking office decides many dates at once: a whole series, a selection of requests,
or the bookings a closure hits.  Guests are told one booking at a time (their usual mail);
each club gets one mail listing its dates (``buchung.services.notices``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from buchung.models import Booking, BookingStatus, Closure
from buchung.services.booking import approve, cancel, decline
from buchung.services.notices import mail_club_dates, mail_club_dates_by_club
from buchung.services.rules import closed_intervals
from lotse.extensions import db
from lotse.models import User


def closure_in_the_way(booking: Booking) -> str | None:
    """The name of a closure (or public holiday) during the booking, else ``None``."""
    hit = closed_intervals(booking.resource, booking.starts_at, booking.ends_at)
    return hit[0].title if hit else None


@dataclass
class Outcome:
    decided: list[Booking] = field(default_factory=list)
    closed: list[tuple[Booking, str]] = field(default_factory=list)  # refused: inside a closure
    skipped: list[Booking] = field(default_factory=list)  # already decided meanwhile


def decide(bookings: list[Booking], accept: bool, reason: str, user: User) -> Outcome:
    """Approve or decline every request among ``bookings``; approvals inside a closure are
    refused (the closure's name is reported)."""
    outcome = Outcome()
    for booking in sorted(bookings, key=lambda b: b.starts_at):
        if booking.status != BookingStatus.REQUESTED:
            outcome.skipped.append(booking)
            continue
        if accept and (closure := closure_in_the_way(booking)):
            outcome.closed.append((booking, closure))
            continue
        tell = booking.club is None
        if accept:
            approve(booking, user, tell=tell)
        else:
            decline(booking, user, reason, tell=tell)
        outcome.decided.append(booking)
    db.session.flush()
    mail_club_dates_by_club(outcome.decided, "approved" if accept else "declined", reason=reason)
    return outcome


def cancel_for_closures(hits: list[tuple[Booking, Closure]], reason: str, user: User) -> int:
    """Cancel the bookings closures hit, with one reason: guests get their cancellation,
    each club one mail listing its dates.  Returns how many were cancelled."""
    done = [(b, c) for b, c in hits if b.is_active]
    for booking, _closure in done:
        cancel(booking, reason, user, tell=booking.club is None)
    db.session.flush()
    by_club: dict[int, list[tuple[Booking, Closure]]] = {}
    for booking, closure in done:
        if booking.club is not None:
            by_club.setdefault(booking.club.id, []).append((booking, closure))
    for pairs in by_club.values():
        title = ", ".join(sorted({c.title for _b, c in pairs}))
        mail_club_dates(pairs[0][0].club, [b for b, _c in pairs], "closure", reason, title)
    return len(done)
