"""iCalendar (.ics) files for a booking, with Europe/Berlin local times and VTIMEZONE."""

from __future__ import annotations

from flask import current_app, url_for
from icalendar import Calendar, Event

from buchung.clock import to_local
from buchung.models import Booking, BookingStatus

ICS_STATUS = {
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.REQUESTED: "TENTATIVE",
    BookingStatus.HELD: "TENTATIVE",
}


def booking_calendar(booking: Booking) -> bytes:
    """The booking as a calendar file the booker can import into any calendar app."""
    resource = booking.resource
    calendar = Calendar()
    calendar.add("prodid", "-//Lotse//Buchung//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    host = current_app.config["PUBLIC_BASE_URL"].split("//", 1)[-1].split("/", 1)[0]
    event.add("uid", f"buchung-{booking.id}@{host}")
    event.add("dtstamp", booking.updated_at or booking.created_at)
    event.add("dtstart", to_local(booking.starts_at))
    event.add("dtend", to_local(booking.ends_at))
    event.add("summary", f"{resource.name}: {booking.purpose}")
    event.add("location", resource.root.address or resource.root.name)
    event.add("status", ICS_STATUS.get(booking.status, "CANCELLED"))
    event.add(
        "url",
        current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        + url_for("buchung.booking_page", token=booking.token),
    )
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
