"""iCalendar (.ics): one booking's file, and the subscription feeds of a resource or a club.

Times are Europe/Berlin local times with a VTIMEZONE in the yearly RRULE form every
calendar reader understands (``buchung.vtimezone``).  The public resource feed carries no
personal data: "belegt", or the club's name where the town allows it
(``BUCHUNG_PUBLIC_CLUB_NAMES``), never a person's name or contact.
"""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext as _
from icalendar import Calendar, Event

from buchung.clock import to_local
from buchung.models import Booking, BookingStatus
from buchung.services.plan import public_label
from buchung.vtimezone import vtimezone

ICS_STATUS = {
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.REQUESTED: "TENTATIVE",
    BookingStatus.HELD: "TENTATIVE",
}


def _host() -> str:
    return current_app.config["PUBLIC_BASE_URL"].split("//", 1)[-1].split("/", 1)[0]


def _sequence(booking: Booking) -> int:
    """Grows with every change of the booking, so calendar apps take the newest version."""
    changed = booking.updated_at or booking.created_at
    return max(0, int(changed.timestamp() - booking.created_at.timestamp()))


def _event(booking: Booking, summary: str) -> Event:
    event = Event()
    event.add("uid", f"buchung-{booking.id}@{_host()}")
    event.add("dtstamp", booking.updated_at or booking.created_at)
    event.add("sequence", _sequence(booking))
    event.add("dtstart", to_local(booking.starts_at))
    event.add("dtend", to_local(booking.ends_at))
    event.add("summary", summary)
    event.add("location", booking.resource.root.address or booking.resource.root.name)
    event.add("status", ICS_STATUS.get(booking.status, "CANCELLED"))
    return event


def _calendar(events: list[Event], name: str | None = None, method: str = "PUBLISH") -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Lotse//Buchung//DE")
    calendar.add("version", "2.0")
    if name:
        calendar.add("x-wr-calname", name)
    else:
        calendar.add("method", method)
    if events:
        calendar.add_component(vtimezone(current_app.config["TIMEZONE"]))
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


def booking_calendar(booking: Booking) -> bytes:
    """The booking as a calendar file the booker can import into any calendar app."""
    event = _event(booking, f"{booking.resource.name}: {booking.purpose}")
    event.add(
        "url",
        current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        + url_for("buchung.booking_page", token=booking.token),
    )
    return _calendar([event])


def mail_method(bookings: list[Booking]) -> str:
    """``REQUEST`` while the bookings stand, ``CANCEL`` once they are declined or cancelled."""
    return "REQUEST" if any(b.is_active for b in bookings) else "CANCEL"


def mail_calendar(bookings: list[Booking], organizer: str = "") -> tuple[str, bytes]:
    """The calendar file a booking mail carries: (METHOD, file), one event per booking.

    The UID is the booking's (``buchung-<id>@host``), the same in the mail that books it and
    in the one that cancels it, so the booker's calendar app updates its entry.
    """
    method = mail_method(bookings)
    events = []
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    for booking in bookings:
        event = _event(booking, f"{booking.resource.name}: {booking.purpose}")
        event.add("url", base + url_for("buchung.booking_page", token=booking.token))
        if organizer:
            event.add("organizer", f"mailto:{organizer}")
        events.append(event)
    return method, _calendar(events, method=method)


def resource_feed(name: str, bookings: list[Booking]) -> bytes:
    """The public occupancy feed of a hall: when it is taken, without personal data."""
    return _calendar(
        [_event(b, f"{b.resource.name}: {public_label(b)}") for b in bookings],
        _("Belegung %(name)s", name=name),
    )


def _club_events(bookings: list[Booking]) -> list[Event]:
    return [_event(b, f"{b.resource.name}: {b.purpose}") for b in bookings]


def club_feed(name: str, bookings: list[Booking]) -> bytes:
    """The club's own feed (behind its secret link): its bookings with their purpose."""
    return _calendar(_club_events(bookings), name)


def series_calendar(bookings: list[Booking]) -> bytes:
    """A series' booked dates as one file the club imports into its calendar app."""
    return _calendar(_club_events(bookings))
