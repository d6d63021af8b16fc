"""Creating and changing bookings; every function adds and flushes, the view commits.

Slot rows are claimed in the booking's own transaction (see ``buchung.models``): a lost
race surfaces as ``SlotTaken``, after which the caller must roll back; nothing is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from buchung.models import (
    SLOT,
    Booking,
    BookingKind,
    BookingNotice,
    BookingSeries,
    BookingSlot,
    BookingStatus,
    Club,
    PartnerKey,
    Resource,
)
from buchung.services.quotas import QuotaUsage, quota_violation
from buchung.services.rules import ClosedInterval, RuleViolation, check_booking
from lotse.extensions import db
from lotse.models import User, utcnow

TAKEN_MESSAGE = _l("Dieser Termin ist gerade vergeben. Bitte wählen Sie eine andere Zeit.")


class BookingRefused(Exception):
    """The booking breaks rules; ``violations`` say which, per form field."""

    def __init__(self, violations: list[RuleViolation]):
        super().__init__(*(v.field for v in violations))
        self.violations = violations


class SlotTaken(BookingRefused):
    """Someone else holds (part of) the time; nothing was stored."""

    def __init__(self):
        super().__init__([RuleViolation(None, TAKEN_MESSAGE)])


@dataclass
class Contact:
    name: str = ""
    email: str = ""
    phone: str = ""


def slot_starts(starts_at: datetime, ends_at: datetime) -> list[datetime]:
    """The grid slots ``[starts_at, ends_at)`` consists of."""
    count = (ends_at - starts_at) // SLOT
    return [starts_at + n * SLOT for n in range(count)]


def holders(resource: Resource, starts_at: datetime, ends_at: datetime) -> list[Booking]:
    """The active bookings that hold any unit of ``resource`` during ``[starts_at, ends_at)``."""
    ids = set(
        db.session.scalars(
            select(BookingSlot.booking_id).where(
                BookingSlot.unit_id.in_(resource.unit_ids()),
                BookingSlot.slot_start >= starts_at,
                BookingSlot.slot_start < ends_at,
            )
        )
    )
    if not ids:  # a free time (the usual case): no bookings to load
        return []
    return list(db.session.scalars(select(Booking).where(Booking.id.in_(ids))))


def claim_slots(booking: Booking) -> None:
    """Write the booking's slot rows; ``SlotTaken`` when any is held already."""
    rows = [
        {"unit_id": unit, "slot_start": start, "booking_id": booking.id}
        for unit in booking.resource.unit_ids()
        for start in slot_starts(booking.starts_at, booking.ends_at)
    ]
    try:
        db.session.execute(insert(BookingSlot), rows)
    except IntegrityError as exc:
        if "booking_slot" not in str(exc.orig):
            raise
        raise SlotTaken() from exc


def release_slots(booking: Booking) -> None:
    """Free the booking's time for others."""
    db.session.execute(delete(BookingSlot).where(BookingSlot.booking_id == booking.id))


def _expire(bookings: list[Booking]) -> None:
    for booking in bookings:
        booking.status = BookingStatus.EXPIRED
        booking.hold_expires_at = None
        release_slots(booking)


def _free_expired_holds(resource: Resource, starts_at: datetime, ends_at: datetime) -> bool:
    """Expire lapsed guest holds in the way; ``True`` when nothing active is left there."""
    now = utcnow()
    found = holders(resource, starts_at, ends_at)
    lapsed = [b for b in found if b.status == BookingStatus.HELD and b.hold_expires_at <= now]
    _expire(lapsed)
    return len(lapsed) == len(found)


def create_booking(
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    *,
    purpose: str,
    contact: Contact | None = None,
    attendees: int | None = None,
    customer_group: str | None = None,
    staff: User | None = None,
    kind: str = BookingKind.BOOKING,
    club: Club | None = None,
    series: BookingSeries | None = None,
    hold_minutes: int | None = None,
    notice: str | None = None,
    closed: list[ClosedInterval] | None = None,
    usage: QuotaUsage | None = None,
    partner: PartnerKey | None = None,
) -> Booking:
    """Book ``resource``: a guest's booking is held until the e-mail link is confirmed.

    Staff bookings (on behalf of a caller) and blockings are confirmed at once; a logged-in
    club's booking skips the hold (confirmed, or requested where the office approves).
    Occurrences of a ``series`` send no mail each.  A waiting-list offer holds for
    ``hold_minutes`` and sends its own ``notice``.  A series passes the ``closed``
    intervals and the club's quota ``usage`` it read once for all its dates.  A ``partner``
    system's request (booking API) follows the club rules and skips the hold like a club's;
    where the office approves, the office is told as for a guest's request.  Raises
    ``BookingRefused`` for broken rules and ``SlotTaken`` when the time is held already.
    """
    violations = check_booking(
        resource,
        starts_at,
        ends_at,
        attendees=attendees,
        staff=staff is not None,
        club=(club is not None and club.approved) or partner is not None,
        closed=closed,
    )
    if club is not None and (
        over := quota_violation(club, resource, starts_at, ends_at, usage=usage)
    ):
        violations.append(over)
    if violations:
        raise BookingRefused(violations)
    if not _free_expired_holds(resource, starts_at, ends_at):
        raise SlotTaken()
    contact = contact or Contact()
    booking = Booking(
        resource=resource,
        starts_at=starts_at,
        ends_at=ends_at,
        kind=kind,
        purpose=purpose,
        attendees=attendees,
        customer_group=customer_group,
        contact_name=contact.name,
        contact_email=contact.email,
        contact_phone=contact.phone,
        token=secrets.token_urlsafe(32),
        created_by=staff,
        club=club,
        series=series,
        api_key=partner,
    )
    if staff is not None:
        booking.status = BookingStatus.CONFIRMED
    elif club is not None or partner is not None:
        needs_approval = resource.root.needs_approval
        booking.status = BookingStatus.REQUESTED if needs_approval else BookingStatus.CONFIRMED
    else:
        booking.status = BookingStatus.HELD
        booking.hold_expires_at = utcnow() + timedelta(
            minutes=hold_minutes or current_app.config["BUCHUNG_HOLD_MINUTES"]
        )
    db.session.add(booking)
    db.session.flush()
    claim_slots(booking)
    if kind == BookingKind.BOOKING and series is None:
        notify(booking, notice or _first_notice(booking))
        if partner is not None and booking.status == BookingStatus.REQUESTED:
            notify(booking, "office_request")
    return booking


def _first_notice(booking: Booking) -> str:
    if booking.status == BookingStatus.HELD:
        return "hold"
    return "requested" if booking.status == BookingStatus.REQUESTED else "confirmed"


def confirm_hold(booking: Booking) -> bool:
    """The guest confirmed the e-mail link: the booking is confirmed or requested.

    Returns ``False`` (and frees the time) when the hold had already lapsed.
    """
    if booking.status != BookingStatus.HELD:
        return booking.is_active
    if booking.hold_expires_at <= utcnow():
        _expire([booking])
        return False
    booking.hold_expires_at = None
    if booking.resource.root.needs_approval:
        booking.status = BookingStatus.REQUESTED
        notify(booking, "requested")
        notify(booking, "office_request")
    else:
        booking.status = BookingStatus.CONFIRMED
        notify(booking, "confirmed")
    return True


def approve(booking: Booking, user: User, *, tell: bool = True) -> None:
    """The booking office accepts a request; the booker is told (unless ``tell`` is off
    because one mail about several dates goes out instead)."""
    booking.status = BookingStatus.CONFIRMED
    _decided(booking, user, "")
    if tell:
        notify(booking, "approved")


def decline(booking: Booking, user: User, reason: str, *, tell: bool = True) -> None:
    """The booking office declines a request with a reason; the time is free again."""
    booking.status = BookingStatus.DECLINED
    _decided(booking, user, reason)
    release_slots(booking)
    if tell:
        notify(booking, "declined")


def cancellation_deadline(booking: Booking) -> datetime:
    """Until when the booker may cancel online (configurable hours before the start)."""
    return booking.starts_at - timedelta(hours=current_app.config["BUCHUNG_CANCEL_HOURS"])


def can_cancel_as_booker(booking: Booking) -> bool:
    """Bookers may withdraw requests any time, confirmed bookings until the deadline."""
    if booking.status in (BookingStatus.HELD, BookingStatus.REQUESTED):
        return True
    return booking.status == BookingStatus.CONFIRMED and utcnow() < cancellation_deadline(booking)


def cancel(
    booking: Booking, reason: str = "", user: User | None = None, *, tell: bool = True
) -> None:
    """Cancel a booking (by its booker, or by staff with a reason); the time is free again."""
    was_held = booking.status == BookingStatus.HELD
    booking.status = BookingStatus.CANCELLED
    booking.hold_expires_at = None
    _decided(booking, user, reason)
    release_slots(booking)
    if booking.kind == BookingKind.BOOKING and not was_held and tell:
        notify(booking, "cancelled")


def _decided(booking: Booking, user: User | None, reason: str) -> None:
    booking.decided_by = user
    booking.decided_at = utcnow()
    booking.reason = reason


def expire_holds() -> int:
    """Free the time of every guest hold whose e-mail link was not confirmed in time."""
    lapsed = list(
        db.session.scalars(
            select(Booking)
            .where(Booking.status == BookingStatus.HELD, Booking.hold_expires_at <= utcnow())
            .with_for_update(of=Booking, skip_locked=True)
        )
    )
    _expire(lapsed)
    db.session.flush()
    return len(lapsed)


def notify(booking: Booking, event: str) -> BookingNotice:
    """Record a mail to send about ``booking``; the job sends it after the commit."""
    notice = BookingNotice(booking=booking, event=event, created_at=utcnow())
    db.session.add(notice)
    return notice


def pending_notice_ids(booking: Booking | None = None) -> list[int]:
    """Mails not sent yet (of one booking, or all): to enqueue after the commit."""
    query = select(BookingNotice.id).where(BookingNotice.sent_at.is_(None))
    if booking is not None:
        query = query.where(BookingNotice.booking_id == booking.id)
    return list(db.session.scalars(query.order_by(BookingNotice.id)))


def mark_notice(notice_id: int, error: str = "") -> None:
    """Record a delivery attempt (sent when ``error`` is empty)."""
    values = {"attempts": BookingNotice.attempts + 1, "last_error": error}
    if not error:
        values["sent_at"] = utcnow()
    db.session.execute(update(BookingNotice).where(BookingNotice.id == notice_id).values(**values))
