"""Mail about bookings: jobs take a notice id, reload it and send at most once."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from buchung.club_models import ClubMember
from buchung.models import BookingNotice
from buchung.services.booking import expire_holds, mark_notice, pending_notice_ids
from buchung.services.clubs import confirmation_token
from buchung.services.notices import booker_addresses, booking_attachment, office_address
from buchung.services.waitlist import offer_freed
from lotse.extensions import db
from lotse.mail import send_template, sending
from lotse.models import utcnow
from lotse.outbox import describe, queue_mail
from lotse.queue import enqueue

SUBJECTS = {
    "hold": _l("Bitte bestätigen Sie Ihre Buchung"),
    "confirmed": _l("Ihre Buchung ist bestätigt"),
    "requested": _l("Ihre Buchungsanfrage ist eingegangen"),
    "office_request": _l("Neue Buchungsanfrage"),
    "approved": _l("Ihre Buchungsanfrage ist genehmigt"),
    "declined": _l("Ihre Buchungsanfrage ist abgelehnt"),
    "cancelled": _l("Ihre Buchung ist storniert"),
    "offer": _l("Ein Termin von der Warteliste ist frei geworden"),
    "moved": _l("Ihr Termin ist verschoben"),
}
CLUB_CONFIRM = "buchung.club_confirm"
CLUB_KNOWN = "buchung.club_already_registered"
describe(CLUB_CONFIRM, _l("Bestätigungslink für einen Vereinszugang"))
describe(CLUB_KNOWN, _l("Hinweis: Adresse schon angemeldet"))
MAX_ATTEMPTS = 10


def enqueue_notices(booking=None) -> None:
    """Hand the unsent mails (of one booking, or all) to the queue; call after the commit."""
    for notice_id in pending_notice_ids(booking):
        enqueue_notice(notice_id, 0)


def enqueue_notice(notice_id: int, attempts: int) -> None:
    """Queue the next attempt of one mail.

    The job id names the attempt: a failed job stays in RQ's failed registry for days under
    its id, and the sweep's retry must not be taken for a duplicate of it.  The queue name
    keeps towns sharing one Redis apart.
    """
    prefix = current_app.config["QUEUE_NAME"]
    enqueue(
        "buchung.jobs.send_notice",
        notice_id,
        job_id=f"{prefix}-buchung-notice-{notice_id}-{attempts}",
    )


def send_notice(notice_id: int) -> None:
    """Send one booking mail unless it went out already; record failures for the sweep."""
    notice = db.session.get(BookingNotice, notice_id)
    if notice is None or notice.sent_at is not None:
        return
    booking = notice.booking
    if notice.event == "office_request":
        to = [office_address(booking.resource)] if office_address(booking.resource) else []
    else:
        to = booker_addresses(booking)
    if to:
        base_url = current_app.config["PUBLIC_BASE_URL"]
        with current_app.test_request_context("/", base_url=base_url):
            try:
                with sending():
                    send_template(
                        to,
                        str(SUBJECTS[notice.event]),
                        f"buchung/emails/{notice.event}",
                        booking=booking,
                        attachments=[booking_attachment([booking])],
                    )
            except Exception as exc:
                db.session.rollback()
                mark_notice(notice_id, f"{type(exc).__name__}: {exc}")
                db.session.commit()
                raise
    mark_notice(notice_id)
    db.session.commit()


def queue_club_confirmation(member: ClubMember) -> None:
    """Mail a new club login the link that confirms its e-mail address (on commit)."""
    db.session.flush()
    queue_mail(
        member.email,
        str(_l("Bitte bestätigen Sie Ihre E-Mail-Adresse")),
        "buchung/emails/club_confirm",
        kind=CLUB_CONFIRM,
        ref=f"club_member:{member.id}",
        member=member,
        token=confirmation_token(member),
    )


def queue_club_already_registered(member: ClubMember) -> None:
    """Tell a club login's owner that somebody tried to register their address again
    (the registration page itself does not say so: it would reveal who has an account)."""
    queue_mail(
        member.email,
        _l("Ihre E-Mail-Adresse ist schon angemeldet"),
        "buchung/emails/club_already_registered",
        kind=CLUB_KNOWN,
        ref=f"club_member:{member.id}",
        member=member,
    )


def sweep() -> None:
    """Expire lapsed holds, offer freed times to the waiting list, send unsent mails again."""
    expire_holds()
    offers = offer_freed()
    db.session.commit()
    for booking in offers:
        enqueue_notices(booking)
    stale = utcnow() - timedelta(minutes=2)
    for notice_id, attempts in db.session.execute(
        select(BookingNotice.id, BookingNotice.attempts).where(
            BookingNotice.sent_at.is_(None),
            or_(BookingNotice.attempts > 0, BookingNotice.created_at < stale),
            BookingNotice.attempts < MAX_ATTEMPTS,
        )
    ):
        enqueue_notice(notice_id, attempts)
