"""Result mails of a published round: one per applicant, sent at most once."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from buchung.allocation.models import AllocationRequest, ResultMail
from lotse.extensions import db
from lotse.mail import send_template
from lotse.models import utcnow
from lotse.queue import enqueue

MAX_ATTEMPTS = 10


def enqueue_result_mails(round_id: int) -> None:
    """Hand the round's unsent result mails to the queue; call after the commit."""
    for mail_id in db.session.scalars(
        select(ResultMail.id).where(ResultMail.round_id == round_id, ResultMail.sent_at.is_(None))
    ):
        _enqueue(mail_id)


def _enqueue(mail_id: int) -> None:
    enqueue("buchung.allocation.jobs.send_result", mail_id, job_id=f"allocation-result-{mail_id}")


def send_result(mail_id: int) -> None:
    """Mail an applicant the result of a round: what it got, what not and why."""
    mail = db.session.get(ResultMail, mail_id)
    if mail is None or mail.sent_at is not None:
        return
    recipients = [m.email for m in mail.club.members if m.confirmed_at is not None]
    if recipients:
        requests = list(
            db.session.scalars(
                select(AllocationRequest)
                .where(
                    AllocationRequest.round_id == mail.round_id,
                    AllocationRequest.club_id == mail.club_id,
                )
                .order_by(AllocationRequest.id)
            )
        )
        base_url = current_app.config["PUBLIC_BASE_URL"]
        with current_app.test_request_context("/", base_url=base_url):
            try:
                send_template(
                    recipients,
                    str(_l("Ergebnis der Saisonvergabe: %(name)s", name=mail.round.name)),
                    "buchung/allocation/emails/result",
                    round=mail.round,
                    club=mail.club,
                    requests=requests,
                )
            except Exception as exc:
                db.session.rollback()
                _mark(mail_id, f"{type(exc).__name__}: {exc}")
                db.session.commit()
                raise
    _mark(mail_id)
    db.session.commit()


def _mark(mail_id: int, error: str = "") -> None:
    values = {"attempts": ResultMail.attempts + 1, "last_error": error}
    if not error:
        values["sent_at"] = utcnow()
    db.session.execute(update(ResultMail).where(ResultMail.id == mail_id).values(**values))


def sweep() -> None:
    """Send result mails again that did not go out (Redis was down, SMTP failed)."""
    stale = utcnow() - timedelta(minutes=2)
    for mail_id in db.session.scalars(
        select(ResultMail.id).where(
            ResultMail.sent_at.is_(None),
            ResultMail.created_at < stale,
            ResultMail.attempts < MAX_ATTEMPTS,
        )
    ):
        _enqueue(mail_id)
