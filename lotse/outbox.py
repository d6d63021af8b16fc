"""The outbox: every mail Lotse sends is first a row, written with the change that causes it.

``queue_mail(...)`` renders the mail at once (so what is sent is what the change said) and
adds an ``OutboxMail`` row to the current session; nothing else happens until the caller
commits.  When the session commits, the new rows are handed to the queue (RQ with Redis,
in-process without).  The job claims its row with a conditional UPDATE and a lease, sends,
and records the outcome; a failed attempt waits ``OUTBOX_RETRY_DELAYS`` and the sweep hands it to
the queue again, so a mail survives Redis being down, a refusing mail server and a worker
killed in the middle.  A rolled-back change leaves no row, so no mail.

The body is kept only until the mail is sent (it may carry a confirmation link); the row
itself stays as the record of who was told what, when.  A link in the mail is in the body,
so every attempt carries the same link; a feature that wants to know when its mail went out
(a confirmation link's expiry counts from then) registers ``on_sent(kind, hook)``.

``lotse.mail.send_message`` refuses to run outside ``sending()``: this module's ``send`` and
mangel's ``Delivery`` (department mails and webhooks) are the only senders.  buchung's
``BookingNotice`` is a note that a booking mail is owed; its job renders the mail into this
outbox once (``buchung.jobs.send_notice``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesParser

from flask import current_app, render_template
from jinja2 import TemplateNotFound
from sqlalchemy import Index, Integer, LargeBinary, String, Text, and_, event, inspect, or_, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from lotse.extensions import db
from lotse.mail import Attachment, build_message, send_message, sending
from lotse.models import UTCDateTime, utcnow

log = logging.getLogger(__name__)

__all__ = ["Attachment", "OutboxMail", "describe", "on_sent", "queue_mail", "send", "sending"]

_SESSION_KEY = "lotse_outbox_new"
HEADER = "X-Lotse-Outbox"  # the row's id, set when sending: the sink can count per row
SentHook = Callable[["OutboxMail", datetime], None]
_on_sent: dict[str, list[SentHook]] = {}


_labels: dict[str, object] = {}


def describe(kind: str, label) -> None:
    """The German name of a kind of mail, for the failed-deliveries page."""
    _labels[kind] = label


def label(kind: str) -> str:
    return str(_labels.get(kind, kind))


def on_sent(kind: str, hook: SentHook) -> None:
    """Run ``hook(mail, sent_at)`` in the transaction that records a mail of ``kind`` sent."""
    hooks = _on_sent.setdefault(kind, [])
    if hook not in hooks:
        hooks.append(hook)


def retry_delays() -> tuple[int, ...]:
    """Seconds to wait after the 1st, 2nd, … failed attempt (``OUTBOX_RETRY_DELAYS``)."""
    return tuple(current_app.config["OUTBOX_RETRY_DELAYS"])


def max_attempts() -> int:
    return len(retry_delays()) + 1


class OutboxMail(db.Model):
    __tablename__ = "outbox_mail"
    __table_args__ = (Index("ix_outbox_mail_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))  # "mangel.confirm", "buchung.club_reset", …
    ref: Mapped[str | None] = mapped_column(String(80), index=True)  # "report:12", "club:3"
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[bytes | None] = mapped_column(LargeBinary)  # cleared once sent
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # gave up for good
    last_error: Mapped[str | None] = mapped_column(Text)

    @property
    def label(self) -> str:
        """What kind of mail this is, in German (``describe``)."""
        return label(self.kind)


def render_mail(subject, template: str, **context) -> tuple[str, str, str | None]:
    """Subject, ``<template>.txt`` and, when present, ``.html``, with links on the public URL.

    ``subject`` may be a lazy string: it is translated here, where a request context exists.
    """
    base_url = current_app.config["PUBLIC_BASE_URL"]
    with current_app.test_request_context("/", base_url=base_url):
        subject = str(subject)
        text = render_template(f"{template}.txt", **context)
        try:
            html = render_template(f"{template}.html", **context)
        except TemplateNotFound:
            html = None
    return subject, text, html


def queue_mail(
    to: str | list[str],
    subject: str,
    template: str,
    *,
    kind: str,
    ref: str | None = None,
    attachments: list[Attachment] | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    **context,
) -> OutboxMail:
    """Render a mail and add it to the session's outbox; it leaves once the session commits."""
    subject, text, html = render_mail(subject, template, **context)
    msg = build_message(
        to,
        subject,
        text,
        html=html,
        attachments=attachments,
        reply_to=reply_to,
        headers=headers,
    )
    recipients = [to] if isinstance(to, str) else list(to)
    row = OutboxMail(
        kind=kind,
        ref=ref,
        recipient=", ".join(recipients)[:320],
        subject=subject[:300],
        message=msg.as_bytes(),
    )
    db.session.add(row)
    db.session.info.setdefault(_SESSION_KEY, []).append(row)
    return row


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    rows = session.info.pop(_SESSION_KEY, None)
    if rows:
        ids = [inspect(row).identity[0] for row in rows if inspect(row).identity]
        enqueue_mails([(mail_id, 0) for mail_id in ids])


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)


def enqueue_mails(due: list[tuple[int, int]]) -> int:
    """Hand (mail id, attempts so far) to the queue; stop at the first refusal."""
    from lotse.queue import enqueue

    prefix = current_app.config["QUEUE_NAME"]
    handed = 0
    for mail_id, attempts in due:
        if not enqueue("lotse.outbox.send", mail_id, job_id=f"{prefix}-mail-{mail_id}-{attempts}"):
            break  # Redis is down: the rows wait for the sweep
        handed += 1
    return handed


def _claimable(now):
    return and_(
        OutboxMail.sent_at.is_(None),
        OutboxMail.failed_at.is_(None),
        OutboxMail.next_attempt_at <= now,
        or_(OutboxMail.locked_until.is_(None), OutboxMail.locked_until < now),
    )


def send(mail_id: int) -> None:
    """Job: send one outbox mail at most once; a failure waits for its next attempt."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    result = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, _claimable(now))
        .values(locked_until=now + lease, attempts=OutboxMail.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return  # sent already, not due, or another worker holds it
    mail = db.session.get(OutboxMail, mail_id)
    db.session.refresh(mail)
    attempt = mail.attempts
    try:
        msg = BytesParser(policy=policy.SMTP).parsebytes(mail.message or b"")
        del msg[HEADER]
        msg[HEADER] = str(mail_id)
        with sending():
            send_message(msg)
    except Exception as exc:
        db.session.rollback()
        values: dict = {"locked_until": None, "last_error": f"{type(exc).__name__}: {exc}"[:2000]}
        delays = retry_delays()
        if attempt > len(delays):
            values["failed_at"] = utcnow()
        else:
            values["next_attempt_at"] = utcnow() + timedelta(seconds=delays[attempt - 1])
        _finish(mail_id, attempt, **values)
        log.warning("mail %s attempt %d failed: %s", mail_id, attempt, exc)
        return
    sent_at = utcnow()
    if _finish(
        mail_id,
        attempt,
        commit=False,
        sent_at=sent_at,
        locked_until=None,
        message=None,
        last_error=None,
    ):
        for hook in _on_sent.get(mail.kind, ()):
            hook(mail, sent_at)
    else:
        log.warning("mail %s sent after its lease ran out", mail_id)
    db.session.commit()


def _finish(mail_id: int, attempt: int, *, commit: bool = True, **values) -> bool:
    """Record our attempt's outcome unless the lease ran out and another worker took over."""
    result = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, OutboxMail.attempts == attempt)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if commit:
        db.session.commit()
    return result.rowcount == 1


def sweep() -> None:
    """Hand every due, unsent mail to the queue again (after a failure, a crash, Redis down)."""
    now = utcnow()
    stale = now - timedelta(seconds=30)  # fresh rows are still on their way from the commit
    due = db.session.execute(
        db.select(OutboxMail.id, OutboxMail.attempts)
        .where(_claimable(now), or_(OutboxMail.attempts > 0, OutboxMail.created_at < stale))
        .order_by(OutboxMail.id)
        .limit(5000)
    ).all()
    enqueue_mails([(mail_id, attempts) for mail_id, attempts in due])


def retry_now(mail_id: int) -> bool:
    """An admin's "retry now": make an unsent mail due at once (again after giving up)."""
    result = db.session.execute(
        update(OutboxMail)
        .where(
            OutboxMail.id == mail_id,
            OutboxMail.sent_at.is_(None),
            OutboxMail.message.is_not(None),
            or_(OutboxMail.locked_until.is_(None), OutboxMail.locked_until < utcnow()),
        )
        .values(next_attempt_at=utcnow(), failed_at=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return False
    attempts = db.session.scalar(db.select(OutboxMail.attempts).where(OutboxMail.id == mail_id))
    enqueue_mails([(mail_id, attempts)])
    return True


def stuck_mails(older_than: timedelta) -> list[OutboxMail]:
    """Mails given up on, retrying after an error, or waiting longer than ``older_than``."""
    since = utcnow() - older_than
    return list(
        db.session.scalars(
            db.select(OutboxMail)
            .where(
                OutboxMail.sent_at.is_(None),
                or_(
                    OutboxMail.failed_at.is_not(None),
                    OutboxMail.attempts > 0,
                    OutboxMail.created_at < since,
                ),
            )
            .order_by(OutboxMail.created_at)
            .limit(500)
        )
    )


def pending_count() -> int:
    return db.session.scalar(
        db.select(db.func.count())
        .select_from(OutboxMail)
        .where(OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None))
    )
