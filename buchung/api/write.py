"""Partner systems request bookings through the API with their key.

A request is checked exactly like the web form's (``create_booking``): rules, closures,
the slot table against double bookings.  It is "angefragt" where the booking office
approves the hall's bookings, else confirmed at once; the mails go through the same
outbox as the web's (``docs/notifications.md``).  A key sees and cancels only its own
requests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import jsonify, request
from limits import parse as parse_limit
from sqlalchemy import select

from buchung.api import ApiError, bp
from buchung.api.keys import request_key
from buchung.api.models import PartnerKey
from buchung.api.read import date_range, stamp
from buchung.clock import NonexistentLocalTime, local_moment, to_local
from buchung.forms import STATUS_LABELS
from buchung.jobs import enqueue_notices
from buchung.models import Booking, BookingStatus, Resource
from buchung.services.booking import (
    BookingRefused,
    Contact,
    SlotTaken,
    can_cancel_as_booker,
    cancel,
    create_booking,
    holders,
)
from buchung.services.freebusy import free_busy, on_grid
from buchung.services.notices import office_contact
from buchung.services.rules import closed_intervals, overlaps
from buchung.services.waitlist import offer_freed
from lotse.extensions import db
from lotse.security import within_limit
from lotse.urls import public_url

KEY_LIMIT = "300 per hour"  # requests, reads of own requests and cancellations per key
FIELDS = {"resource_id", "start", "end", "purpose", "attendees", "contact"}
ALTERNATIVES = 3
SEARCH_DAYS = 14


def booking_json(booking: Booking) -> dict:
    """A partner's own booking: its times, state and the contact it gave."""
    return {
        "id": booking.id,
        "resource_id": booking.resource.id,
        "hall_id": booking.resource.root.id,
        "resource_name": booking.resource.name,
        "start": stamp(booking.starts_at),
        "end": stamp(booking.ends_at),
        "status": booking.status,
        "status_text": str(STATUS_LABELS[booking.status]),
        "purpose": booking.purpose,
        "attendees": booking.attendees,
        "contact": {
            "name": booking.contact_name,
            "email": booking.contact_email,
            "phone": booking.contact_phone,
        },
        "reason": booking.reason,
        "created_at": stamp(booking.created_at),
        "links": {
            "self": public_url("buchung_api.booking", booking_id=booking.id),
            "web": public_url("buchung.booking_page", token=booking.token),
        },
    }


def _key() -> PartnerKey:
    key = request_key()
    if not within_limit(parse_limit(KEY_LIMIT), "buchung-api-key", str(key.id)):
        raise ApiError(429, "too_many_requests", f"At most {KEY_LIMIT} for one API key.")
    return key


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(
        422,
        "invalid_request",
        "The request body has errors.",
        [{"field": field, "message": message}],
    )


def _moment(body: dict, field: str) -> datetime:
    """A time of the body: ISO 8601 with offset, or without one as local wall-clock time."""
    value = body.get(field)
    if not isinstance(value, str):
        raise _invalid(field, "required: a date and time like 2026-12-07T18:00:00+01:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(field, f"not a date and time: '{value[:40]}'") from None
    if not 2000 <= parsed.year <= 2099:
        raise _invalid(field, "must lie between the years 2000 and 2099")
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    try:
        moment = local_moment(parsed.date(), parsed.hour * 60 + parsed.minute, strict=True)
    except NonexistentLocalTime:
        raise _invalid(field, "this local time does not exist (the clocks go forward)") from None
    return moment + timedelta(seconds=parsed.second, microseconds=parsed.microsecond)


def _text(body: dict, field: str, max_length: int, *, required: bool = False) -> str:
    value = body.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _invalid(field, "must be a string")
    value = value.strip()
    if required and not value:
        raise _invalid(field, "required")
    if len(value) > max_length:
        raise _invalid(field, f"at most {max_length} characters")
    return value


def _contact(body: dict, key: PartnerKey) -> Contact:
    given = body.get("contact") or {}
    if not isinstance(given, dict):
        raise _invalid("contact", "must be an object with name, email and phone")
    email = _text(given, "email", 254)
    if email and ("@" not in email or " " in email):
        raise _invalid("contact.email", "not an e-mail address")
    return Contact(
        name=_text(given, "name", 120) or key.name,
        email=email or key.contact_email,
        phone=_text(given, "phone", 40),
    )


def _body() -> dict:
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the request body as application/json.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise _invalid(unknown[0], "unknown field")
    return body


def _resource(body: dict, key: PartnerKey) -> Resource:
    resource_id = body.get("resource_id")
    if not isinstance(resource_id, int) or isinstance(resource_id, bool) or resource_id < 1:
        raise _invalid("resource_id", "required: the id of a hall, a part of a hall or a room")
    resource = db.session.get(Resource, resource_id) if resource_id < 2**31 else None
    if resource is None or not resource.active or not resource.root.active:
        raise ApiError(404, "resource_not_found", f"There is no hall or room {resource_id}.")
    if not key.allows(resource):
        raise ApiError(403, "resource_not_allowed", "This API key may not book this hall or room.")
    return resource


def _attendees(body: dict) -> int | None:
    value = body.get("attendees")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100_000:
        raise _invalid("attendees", "a whole number from 1")
    return value


def alternatives(resource: Resource, starts_at: datetime, ends_at: datetime) -> list[dict]:
    """The next free times as long as the asked one, from the asked start on: of this
    resource first, then the earliest of the other parts of its hall (or the whole hall)."""
    hall = resource.root
    length = ends_at - starts_at
    first = to_local(starts_at).date()
    own, others = [], []
    for unit in free_busy(hall, first, first + timedelta(days=SEARCH_DAYS - 1)):
        for free_start, free_end in unit.free:
            start = on_grid(max(free_start, starts_at), hall.slot_minutes)
            if start + length <= free_end:
                (own if unit.resource.id == resource.id else others).append((start, unit.resource))
                break
    found = own + sorted(others, key=lambda found: (found[0], found[1].name))
    return [
        {
            "resource_id": unit.id,
            "resource_name": unit.name,
            "start": stamp(start),
            "end": stamp(start + length),
        }
        for start, unit in found[:ALTERNATIVES]
    ]


def _conflict(resource: Resource, starts_at: datetime, ends_at: datetime) -> ApiError | None:
    """What blocks the time, named without people: a closure, or the parts taken when."""
    for closed in closed_intervals(resource, starts_at, ends_at):
        if overlaps(starts_at, ends_at, closed.starts_at, closed.ends_at):
            return ApiError(
                409,
                "closed",
                f"Closed at this time: {closed.title}.",
                [
                    {
                        "reason": closed.title,
                        "start": stamp(closed.starts_at),
                        "end": stamp(closed.ends_at),
                    }
                ],
            )
    blocking = [
        b
        for b in holders(resource, starts_at, ends_at)
        if b.status != BookingStatus.HELD or b.hold_expires_at > datetime.now(UTC)
    ]
    if not blocking:
        return None
    details = [
        {
            "resource_id": b.resource.id,
            "resource_name": b.resource.name,
            "start": stamp(b.starts_at),
            "end": stamp(b.ends_at),
        }
        for b in sorted(blocking, key=lambda b: (b.starts_at, b.resource.name))
    ]
    names = ", ".join(
        f"{d['resource_name']} {d['start'][11:16]}–{d['end'][11:16]}" for d in details
    )
    return ApiError(409, "taken", f"This time is taken: {names}.", details)


def _with_alternatives(error: ApiError, resource, starts_at, ends_at) -> ApiError:
    error.alternatives = alternatives(resource, starts_at, ends_at)
    return error


@bp.route("/bookings", methods=["POST"])
def booking_create():
    """Request a booking for a partner: 201 with the booking ("requested" or "confirmed"),
    409 naming what blocks the time (with free alternatives), 422 for broken rules."""
    key = _key()
    body = _body()
    resource = _resource(body, key)
    starts_at, ends_at = _moment(body, "start"), _moment(body, "end")
    purpose = _text(body, "purpose", 200, required=True)
    attendees = _attendees(body)
    contact = _contact(body, key)
    if ends_at <= starts_at:
        raise _invalid("end", "must be after start")
    conflict = _conflict(resource, starts_at, ends_at)
    if conflict is not None:
        raise _with_alternatives(conflict, resource, starts_at, ends_at)
    try:
        booking = create_booking(
            resource,
            starts_at,
            ends_at,
            purpose=purpose,
            contact=contact,
            attendees=attendees,
            partner=key,
        )
    except SlotTaken:
        db.session.rollback()
        conflict = _conflict(resource, starts_at, ends_at) or ApiError(
            409, "taken", "This time was just taken."
        )
        raise _with_alternatives(conflict, resource, starts_at, ends_at) from None
    except BookingRefused as refused:
        db.session.rollback()
        raise ApiError(
            422,
            "rule_violation",
            "The request breaks the booking rules.",
            [{"field": v.field or "", "message": str(v.message)} for v in refused.violations],
        ) from None
    db.session.commit()
    enqueue_notices(booking)
    response = booking_response(booking, 201)
    response.headers["Location"] = public_url("buchung_api.booking", booking_id=booking.id)
    return response


def booking_response(booking: Booking, status: int = 200):
    response = jsonify(booking_json(booking))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _own(booking_id: int, key: PartnerKey) -> Booking:
    booking = db.session.get(Booking, booking_id) if booking_id < 2**31 else None
    if booking is None or booking.api_key_id != key.id:
        raise ApiError(404, "booking_not_found", f"This API key has no booking {booking_id}.")
    return booking


@bp.route("/bookings", methods=["GET"])
def booking_list():
    """The key's own bookings starting in ``from``–``to`` (default: the next 92 days)."""
    key = _key()
    first, last = date_range(default_days=92)
    bookings = db.session.scalars(
        select(Booking)
        .where(
            Booking.api_key_id == key.id,
            Booking.starts_at >= local_moment(first, 0),
            Booking.starts_at < local_moment(last, 1440),
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    response = jsonify(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "bookings": [booking_json(b) for b in bookings],
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/bookings/<int:booking_id>", methods=["GET"])
def booking(booking_id: int):
    """One of the key's own bookings with its current state (approved, declined …)."""
    return booking_response(_own(booking_id, _key()))


@bp.route("/bookings/<int:booking_id>", methods=["DELETE"])
def booking_cancel(booking_id: int):
    """Withdraw a request or cancel a booking (until the online deadline), as the web link
    does; cancelling again answers the cancelled booking."""
    booking = _own(booking_id, _key())
    if booking.is_active:
        if not can_cancel_as_booker(booking):
            raise ApiError(
                409,
                "too_late",
                "This booking can no longer be cancelled online; call the booking office: "
                + office_contact(booking),
            )
        cancel(booking, "Über die Schnittstelle storniert")
        offer_freed()
        db.session.commit()
        enqueue_notices()
    return booking_response(booking)
