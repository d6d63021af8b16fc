"""Who a booking mail goes to, and the mails about several dates at once (one per club).

The matrix is in ``docs/notifications.md`` ("Buchung").  Mails about one booking are
``BookingNotice`` rows (``buchung.jobs``); a mail about several dates of a club (a series, a
bulk decision, a closure) and the club-account mails go through the core outbox
(``lotse.outbox.queue_mail``): rendered now, written in the caller's transaction, sent after
its commit.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from buchung.club_models import Club, ClubMember
from buchung.ics import mail_calendar
from buchung.models import Booking, Resource
from lotse.extensions import db
from lotse.mail import Attachment
from lotse.models import Department
from lotse.outbox import queue_mail

CLUB_DATES_SUBJECTS = {
    "series": _l("Ihre Serie ist eingetragen"),
    "approved": _l("Ihre Termine sind genehmigt"),
    "declined": _l("Ihre Terminanfragen sind abgelehnt"),
    "closure": _l("Termine fallen aus: %(title)s"),
    "cancelled": _l("Ihre Termine sind abgesagt"),
}


def club_addresses(club: Club) -> list[str]:
    """Every confirmed login of the club: the members all hear about its bookings."""
    return sorted({m.email for m in club.members if m.confirmed_at is not None})


def booker_addresses(booking: Booking) -> list[str]:
    """The booker: the contact address, and for a club booking the club's logins too."""
    found = set(club_addresses(booking.club)) if booking.club is not None else set()
    if booking.contact_email:
        found.add(booking.contact_email)
    return sorted(found)


def office_address(resource: Resource) -> str:
    """The booking office of the hall's department."""
    return resource.root.department.email or ""


def office_contact(booking: Booking) -> str:
    """The booking office's phone (``BUCHUNG_OFFICE_PHONES``) and e-mail, as one line."""
    department = booking.resource.root.department
    phone = current_app.config["BUCHUNG_OFFICE_PHONES"].get(department.name, "")
    return ", ".join(part for part in (phone, department.email) if part)


def booking_attachment(bookings: list[Booking]) -> Attachment:
    """``buchung.ics`` for a mail about ``bookings`` (REQUEST, or CANCEL once ended)."""
    organizer = office_address(bookings[0].resource) if bookings else ""
    method, data = mail_calendar(bookings, organizer)
    return Attachment("buchung.ics", f"text/calendar; method={method}", data)


def mail_club_dates(
    club: Club, bookings: list[Booking], event: str, reason: str = "", title: str = ""
) -> None:
    """One mail to the club listing ``bookings`` (series booked, decided, cancelled)."""
    to = club_addresses(club)
    if not to or not bookings:
        return
    bookings = sorted(bookings, key=lambda b: b.starts_at)
    queue_mail(
        to,
        str(CLUB_DATES_SUBJECTS[event]) % {"title": title},
        f"buchung/emails/club_dates_{event}",
        kind=f"buchung.club_dates.{event}",
        ref=f"club:{club.id}",
        attachments=[booking_attachment(bookings)],
        club=club,
        bookings=bookings,
        reason=reason,
        title=title,
    )


def mail_club_dates_by_club(bookings: list[Booking], event: str, **kw) -> None:
    """``mail_club_dates`` for each club among ``bookings`` (guests are told one by one)."""
    by_club: dict[int, list[Booking]] = {}
    for booking in bookings:
        if booking.club is not None:
            by_club.setdefault(booking.club.id, []).append(booking)
    for club_bookings in by_club.values():
        mail_club_dates(club_bookings[0].club, club_bookings, event, **kw)


def mail_office_series(club: Club, bookings: list[Booking]) -> None:
    """Tell the hall's booking office that a club's series waits for its decision."""
    to = office_address(bookings[0].resource)
    if to:
        queue_mail(
            to,
            str(_l("Neue Serienanfrage")),
            "buchung/emails/office_series",
            kind="buchung.office_series",
            ref=f"club:{club.id}",
            club=club,
            bookings=bookings,
        )


def office_addresses() -> list[str]:
    """Every department that manages a hall or room: they approve clubs."""
    return sorted(
        set(
            db.session.scalars(
                select(Department.email)
                .join(Resource, Resource.department_id == Department.id)
                .where(Department.email.is_not(None), Department.email != "")
            )
        )
    )


def mail_club_registered(member: ClubMember) -> None:
    to = office_addresses()
    if to:
        queue_mail(
            to,
            str(_l("Neuer Verein angemeldet")),
            "buchung/emails/office_club_registered",
            kind="buchung.club_registered",
            ref=f"club:{member.club_id}",
            member=member,
            club=member.club,
        )


def mail_club_decision(club: Club, approved: bool, reason: str = "") -> None:
    """Tell the club's logins that the office approved or rejected its registration."""
    to = sorted({m.email for m in club.members})
    if not to:
        return
    subject = (
        _l("Ihr Verein ist freigegeben") if approved else _l("Ihre Vereinsanmeldung ist abgelehnt")
    )
    queue_mail(
        to,
        str(subject),
        "buchung/emails/club_approved" if approved else "buchung/emails/club_rejected",
        kind="buchung.club_decision",
        ref=f"club:{club.id}",
        club=club,
        reason=reason,
    )
