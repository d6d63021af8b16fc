"""Mail about bookings: a job takes a notice id, renders its mail into the core outbox once."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from buchung.club_models import ClubMember
from buchung.models import Booking, BookingNotice, BookingStatus
from buchung.services.booking import expire_holds, mark_notice, pending_notice_ids
from buchung.services.clubs import confirmation_token
from buchung.services.notices import booker_addresses, booking_attachment, office_address
from buchung.services.waitlist import offer_freed
from lotse.extensions import db
from lotse.models import utcnow
from lotse.outbox import OutboxMail, describe, on_sent, queue_mail
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
NOTICE_KIND = "buchung.notice."  # + the event: "buchung.notice.hold", …
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
    """Job: write one booking mail into the outbox, exactly once, rendered from the booking
    as it is now; the outbox sends it, retries it and lists it when it does not go out.

    The hand-off is one transaction: the conditional UPDATE that marks the notice done
    (which makes a second job running at the same time wait for this one and then match
    nothing) and the outbox row commit together or not at all.  Before, the job sent the
    mail itself and marked it afterwards: two jobs of one notice (the attempt-0 job that
    ``enqueue_notices()`` queues again for every unsent notice, and the sweep's retry) both
    sent it.  The outbox claims each send with a lease; only a worker killed between the
    mail server's "250 OK" and the outbox's commit can still send it twice, with the same
    Message-ID.
    """
    claimed = db.session.execute(
        update(BookingNotice)
        .where(BookingNotice.id == notice_id, BookingNotice.sent_at.is_(None))
        .values(sent_at=utcnow(), attempts=BookingNotice.attempts + 1, last_error="")
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        return  # handed over already, or the booking is gone
    notice = db.session.get(BookingNotice, notice_id)
    try:
        _queue_notice_mail(notice)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        mark_notice(notice_id, f"{type(exc).__name__}: {exc}")
        db.session.commit()
        raise


def _queue_notice_mail(notice: BookingNotice) -> None:
    booking = notice.booking
    if notice.event == "office_request":
        to = [office_address(booking.resource)] if office_address(booking.resource) else []
    else:
        to = booker_addresses(booking)
    if not to:
        return
    base_url = current_app.config["PUBLIC_BASE_URL"]
    with current_app.test_request_context("/", base_url=base_url):
        queue_mail(
            to,
            SUBJECTS[notice.event],
            f"buchung/emails/{notice.event}",
            kind=NOTICE_KIND + notice.event,
            ref=f"booking:{booking.id}",
            attachments=[booking_attachment([booking])],
            headers={"Message-ID": notice_message_id(notice.id)},
            booking=booking,
        )


def notice_message_id(notice_id: int) -> str:
    """Stable per notice: should the outbox ever send it twice (a worker killed between the
    mail server's answer and the commit), the copies are recognisably the same mail."""
    return f"<buchung-notice-{notice_id}@lotse.invalid>"


def _extend_hold(mail: OutboxMail, sent_at: datetime) -> None:
    """A guest's hold counts from the sending of its confirmation mail: a mail held up by
    an outage does not arrive with a link that is about to expire."""
    name, _, booking_id = (mail.ref or "").partition(":")
    if name != "booking":
        return
    expires = sent_at + timedelta(minutes=current_app.config["BUCHUNG_HOLD_MINUTES"])
    db.session.execute(
        update(Booking)
        .where(
            Booking.id == int(booking_id),
            Booking.status == BookingStatus.HELD,
            Booking.hold_expires_at < expires,
        )
        .values(hold_expires_at=expires)
        .execution_options(synchronize_session=False)
    )


for _event, _subject in SUBJECTS.items():
    describe(NOTICE_KIND + _event, _subject)
on_sent(NOTICE_KIND + "hold", _extend_hold)


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
    stale = utcnow() - timedelta(seconds=30)  # fresh notices are on their way from the commit
    for notice_id, attempts in db.session.execute(
        select(BookingNotice.id, BookingNotice.attempts).where(
            BookingNotice.sent_at.is_(None),
            or_(BookingNotice.attempts > 0, BookingNotice.created_at < stale),
            BookingNotice.attempts < MAX_ATTEMPTS,
        )
    ):
        enqueue_notice(notice_id, attempts)
