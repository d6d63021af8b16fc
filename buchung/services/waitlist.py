"""The waiting list: queue for a taken time; when it frees up, offer it to the first in line.

An offer is an ordinary guest hold (slot rows and all) that lasts ``BUCHUNG_OFFER_MINUTES``
and is confirmed with the mailed link.  When it lapses, the sweep expires the hold and
offers the time to the next in line.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from buchung.club_models import WaitlistEntry
from buchung.models import Booking, BookingStatus, Resource
from buchung.services.booking import BookingRefused, Contact, create_booking, holders
from lotse.extensions import db
from lotse.models import utcnow

OFFER_PURPOSE = "Warteliste"


def join(resource: Resource, starts_at: datetime, ends_at: datetime, name: str, email: str):
    """Queue for ``[starts_at, ends_at)``; ``None`` when the time is free (book it instead)."""
    if not holders(resource, starts_at, ends_at):
        return None
    entry = WaitlistEntry(
        resource_id=resource.id, starts_at=starts_at, ends_at=ends_at, name=name, email=email
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="buchung-waitlist-leave")


def leave_token(entry: WaitlistEntry) -> str:
    """The signed token of the "leave the waiting list" link in the joining mail."""
    return _serializer().dumps(entry.id)


def entry_from_token(token: str) -> WaitlistEntry | None:
    try:
        entry_id = _serializer().loads(token)
    except BadSignature:
        return None
    return db.session.get(WaitlistEntry, entry_id)


def leave(entry: WaitlistEntry) -> bool:
    """Take a waiting entry off the list; ``False`` when it is no longer waiting."""
    if entry.state != "waiting":
        return False
    entry.state = "left"
    return True


def _settle_offers() -> None:
    """Offers confirmed become ``booked``; offers not confirmed in time ``lapsed``."""
    for entry in db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.state == "offered")):
        if entry.booking is None or entry.booking.status in (
            BookingStatus.EXPIRED,
            BookingStatus.CANCELLED,
        ):
            entry.state = "lapsed"
        elif entry.booking.status != BookingStatus.HELD:
            entry.state = "booked"


def offer_freed() -> list[Booking]:
    """Offer every freed time to the first waiting in line for it; returns the offered holds."""
    _settle_offers()
    offers = []
    waiting = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.state == "waiting", WaitlistEntry.starts_at > utcnow())
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    )
    for entry in waiting:
        if holders(entry.resource, entry.starts_at, entry.ends_at):
            continue
        try:
            with db.session.begin_nested():
                entry.booking = create_booking(
                    entry.resource,
                    entry.starts_at,
                    entry.ends_at,
                    purpose=OFFER_PURPOSE,
                    contact=Contact(entry.name, entry.email),
                    hold_minutes=current_app.config["BUCHUNG_OFFER_MINUTES"],
                    notice="offer",
                )
                entry.state = "offered"
                offers.append(entry.booking)
        except BookingRefused:
            continue  # the time is no longer bookable; the entry waits on
    db.session.flush()
    return offers
