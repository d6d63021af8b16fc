"""The outbox worker: send ``Delivery`` rows by e-mail or webhook, exactly once per claim.

A row is claimed by one conditional UPDATE (``pending`` and due, or ``sending`` with an
expired lease → ``sending`` with a new lease and one more attempt).  On PostgreSQL the
second of two concurrent claims waits for the first's row lock, re-reads the row and
matches nothing; on SQLite writes are serialised anyway.  So one worker sends, however
often RQ or the sweep runs the job.

Between the SMTP server's "250 OK" and our commit of ``sent`` a crash leaves the row
``sending``; after the lease the sweep sends it again.  That window makes e-mail
at-least-once: the Message-ID is derived from the delivery, so the recipient's mail
system (and the tests) can drop the duplicate.  Webhooks carry the row's idempotency key.

The sweep runs every minute (the cron of ``flask lotse worker``; without Redis ``flask
lotse sweep`` from cron): it enqueues what Redis missed, retries after the backoff, takes
over rows of dead workers once their lease (``MANGEL_DELIVERY_LEASE_SECONDS``, longer than
``JOB_TIMEOUT``) ran out, and sends the "Ist es behoben?" mails when due.  Without Redis the
same jobs run in the sweep's process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.parse
import urllib.request
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, event, inspect, or_, select, update
from sqlalchemy.orm import Session

from lotse.extensions import db
from lotse.mail import Attachment, send_template, sending
from lotse.models import utcnow
from lotse.queue import enqueue
from lotse.urls import public_url
from mangel.follow_up import reopen_token
from mangel.routing.models import (
    Delivery,
    DeliveryMethod,
    DeliveryState,
    DepartmentEndpoint,
    Purpose,
)
from mangel.services import upload_dir

log = logging.getLogger(__name__)

_SESSION_KEY = "mangel_deliveries"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def schedule(delivery: Delivery) -> None:
    """Remember a new row of this session, to enqueue it once the session commits."""
    db.session.info.setdefault(_SESSION_KEY, []).append((delivery, delivery.next_attempt_at))


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    scheduled = session.info.pop(_SESSION_KEY, None)
    if scheduled:
        now = utcnow()
        # Later rows (the "Ist es behoben?" mail) are picked up by the sweep when due.
        enqueue_deliveries([(inspect(d).identity[0], 1) for d, due in scheduled if due <= now])


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)


def enqueue_deliveries(due: list[tuple[int, int]]) -> int:
    """Hand (delivery id, attempt) pairs to the queue; stop at the first refusal.

    The job id names the attempt, so the same attempt is never queued twice while a new
    attempt after a crash or a failure gets a job of its own.  Returns how many went.
    """
    # RQ job ids are global in a Redis database: the queue name keeps towns (and test runs)
    # sharing one Redis from taking each other's deliveries for duplicates.
    prefix = current_app.config["QUEUE_NAME"]
    handed = 0
    for delivery_id, attempt in due:
        if not enqueue(
            "mangel.routing.delivery.deliver",
            delivery_id,
            job_id=f"{prefix}-delivery-{delivery_id}-{attempt}",
        ):
            break  # Redis is down: the rows wait for the sweep, the request goes on
        handed += 1
    return handed


def _claimable(now):
    return or_(
        and_(Delivery.state == DeliveryState.PENDING.value, Delivery.next_attempt_at <= now),
        and_(Delivery.state == DeliveryState.SENDING.value, Delivery.locked_until < now),
    )


def claim(delivery_id: int) -> Delivery | None:
    """Take the row for this worker (one more attempt, a lease), or ``None`` if not ours."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["MANGEL_DELIVERY_LEASE_SECONDS"])
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, _claimable(now))
        .values(
            state=DeliveryState.SENDING.value,
            locked_until=now + lease,
            attempts=Delivery.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(Delivery, delivery_id)


def _finish(delivery_id: int, attempt: int, **values) -> bool:
    """Record the outcome of our attempt unless the lease expired and another took over."""
    result = db.session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.state == DeliveryState.SENDING.value,
            Delivery.attempts == attempt,
        )
        .values(locked_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def retry_delay(attempt: int) -> timedelta:
    """Backoff after a failed attempt: 5 minutes after the first, then 30 (FixMyStreet)."""
    first, later = current_app.config["MANGEL_DELIVERY_BACKOFF"]
    return timedelta(seconds=first if attempt <= 1 else later)


def deliver(delivery_id: int) -> None:
    """RQ job: send one delivery if it is due and nobody else is sending it."""
    delivery = claim(delivery_id)
    if delivery is None:
        return
    attempt = delivery.attempts
    try:
        with sending():
            SENDERS[delivery.method](delivery)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
        db.session.rollback()
        gave_up = attempt >= current_app.config["MANGEL_DELIVERY_MAX_ATTEMPTS"]
        log.warning("delivery %s attempt %s failed: %s", delivery_id, attempt, exc)
        _finish(
            delivery_id,
            attempt,
            state=(DeliveryState.FAILED if gave_up else DeliveryState.PENDING).value,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_attempt_at=utcnow() + retry_delay(attempt),
        )
        return
    if not _finish(delivery_id, attempt, state=DeliveryState.SENT.value, sent_at=utcnow()):
        log.warning("delivery %s sent after its lease ran out", delivery_id)


def staff_link(report_id: int) -> str:
    """The report in the staff workbench (issue 5), for the department's mail."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return base + current_app.config["MANGEL_STAFF_REPORT_PATH"].format(report_id=report_id)


def message_id(delivery: Delivery) -> str:
    """Stable per delivery, so a resend after a crash is recognisable as the same mail."""
    return f"<mangel-delivery-{delivery.id}-{delivery.idempotency_key}@lotse.invalid>"


def _photos(delivery: Delivery) -> list[Attachment]:
    folder = upload_dir()
    return [
        Attachment(photo.file_name, photo.content_type, (folder / photo.file_name).read_bytes())
        for photo in delivery.report.photos
        if (folder / photo.file_name).is_file()
    ]


def _reporter_mail(delivery: Delivery) -> tuple[str, str, dict]:
    report = delivery.report
    link = public_url("mangel.report_page", report_id=report.id)
    if delivery.purpose == Purpose.FORWARDED.value:
        subject = _("Ihre Meldung Nr. %(id)d wurde weitergeleitet", id=report.id)
        return subject, "mangel/emails/forwarded", {"link": link, "department": delivery.department}
    if delivery.purpose == Purpose.STATUS.value:
        if delivery.recipient != report.reporter_email:  # a follower (workbench_followers)
            subject = _("Neuer Stand der Meldung Nr. %(id)d", id=report.id)
            return subject, "mangel/emails/status", {"link": link, "follower": True}
        subject = _("Neuer Stand Ihrer Meldung Nr. %(id)d", id=report.id)
        return subject, "mangel/emails/status", {"link": link}
    subject = _("Ist es behoben? Ihre Meldung Nr. %(id)d", id=report.id)
    reopen_link = public_url("mangel.reopen", token=reopen_token(report.id))
    return subject, "mangel/emails/follow_up", {"link": link, "reopen_link": reopen_link}


def reason_label(reason: str) -> str:
    """Why a department gets a report again, in words; nothing for a new report."""
    labels = {
        "forward": _("weitergeleitet"),
        "move": _("Ort geändert"),
        "recategorise": _("Kategorie geändert"),
        "reopened": _("von der meldenden Person wieder geöffnet"),
    }
    if not reason or reason == "confirmed":
        return ""
    return labels.get(reason, reason)


def send_email(delivery: Delivery) -> None:
    """Mail a department (text, HTML, photos, reply-to) or the reporter."""
    report = delivery.report
    headers = {"Message-ID": message_id(delivery)}
    with force_locale("de"):
        if delivery.purpose != Purpose.DEPARTMENT.value:
            subject, template, context = _reporter_mail(delivery)
            send_template(
                delivery.recipient,
                subject,
                template,
                report=report,
                change=delivery.status_change,
                headers=headers,
                **context,
            )
            return
        # Answers of a department go to the town's Mängelmelder inbox, never to noreply.
        reply_to = (
            current_app.config["MANGEL_REPLY_TO"] or current_app.config["MANGEL_FALLBACK_EMAIL"]
        )
        send_template(
            delivery.recipient,
            _(
                "Meldung Nr. %(id)d: %(category)s, %(street)s",
                id=report.id,
                category=report.category.full_name,
                street=report.street or report.nearest_address,
            ),
            "mangel/emails/delivery",
            report=report,
            delivery=delivery,
            reason=reason_label(delivery.reason),
            link=staff_link(report.id),
            attachments=_photos(delivery),
            reply_to=reply_to.format(report_id=report.id),
            headers=headers,
        )


def webhook_payload(delivery: Delivery) -> dict:
    """What an external department's system receives: the report, without tracking secrets."""
    report = delivery.report
    return {
        "idempotency_key": delivery.idempotency_key,
        "delivery_id": delivery.id,
        "reason": delivery.reason,
        "report": {
            "id": report.id,
            "category": report.category.full_name,
            "status": report.status,
            "lat": report.lat,
            "lon": report.lon,
            "street": report.street,
            "nearest_address": report.nearest_address,
            "description": report.description,
            "answers": report.answers,
            "answer_labels": [
                {"question": question, "value": answer}
                for question, answer in report.readable_answers()
            ],
            "reporter": {
                "name": report.reporter_name,
                "email": report.reporter_email,
                "phone": report.reporter_phone,
            },
            "confirmed_at": report.confirmed_at.isoformat() if report.confirmed_at else None,
            "url": staff_link(report.id),
        },
    }


def sign(secret: str, body: bytes) -> str:
    """The ``X-Lotse-Signature`` header: HMAC-SHA256 of the body with the shared secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_url_error(url: str) -> str | None:
    """Why a webhook address cannot be used, in German; ``None`` when it can.

    Reports carry personal data, so they leave only encrypted (https).  Plain http is
    accepted for this machine itself (a receiver on loopback), where nothing crosses a
    network.
    """
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme == "http" and parts.hostname in LOOPBACK:
        return None
    if parts.scheme != "https":
        return _(
            "Bitte geben Sie eine Adresse mit https:// an: Meldungen enthalten "
            "personenbezogene Daten und werden nur verschlüsselt übertragen."
        )
    if not parts.hostname:
        return _(
            "Die Adresse ist unvollständig, zum Beispiel https://system.beispiel.de/meldungen."
        )
    return None


def post_signed(url: str, secret: str, payload: dict, idempotency_key: str) -> int:
    """POST the signed JSON; returns the HTTP status.  Anything but 2xx raises."""
    if webhook_url_error(url) is not None:
        raise ValueError(f"not an https webhook: {url}")
    body = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
            "X-Lotse-Signature": sign(secret, body),
        },
    )
    timeout = current_app.config["MANGEL_WEBHOOK_TIMEOUT"]
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        response.read()
        return response.status


def send_webhook(delivery: Delivery) -> None:
    """POST the signed JSON; anything but a 2xx answer raises and is retried."""
    endpoint = db.session.get(DepartmentEndpoint, delivery.department_id)
    if endpoint is None:
        raise LookupError("department has no webhook any more")
    post_signed(
        delivery.recipient,
        endpoint.webhook_secret,
        webhook_payload(delivery),
        delivery.idempotency_key,
    )


SENDERS = {DeliveryMethod.EMAIL.value: send_email, DeliveryMethod.WEBHOOK.value: send_webhook}


def due_deliveries(now=None) -> list[tuple[int, int]]:
    """(id, next attempt) of rows due now, and of ``sending`` rows whose worker died."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Delivery.id, Delivery.attempts)
        .where(_claimable(now))
        .order_by(Delivery.next_attempt_at)
        .limit(current_app.config["MANGEL_SWEEP_BATCH"])
    ).all()
    db.session.commit()
    return [(row.id, row.attempts + 1) for row in rows]


def sweep() -> None:
    """Periodic: enqueue every delivery that is due (Redis was down, a retry, a dead worker)."""
    due = due_deliveries()
    handed = enqueue_deliveries(due)
    if due:
        log.info("sweep: %d of %d due deliveries enqueued", handed, len(due))


def retry_now(delivery_id: int) -> bool:
    """An admin's "retry now": make a failed or waiting row due at once and enqueue it."""
    result = db.session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.state.in_([DeliveryState.FAILED.value, DeliveryState.PENDING.value]),
        )
        .values(state=DeliveryState.PENDING.value, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return False
    attempts = db.session.scalar(select(Delivery.attempts).where(Delivery.id == delivery_id))
    enqueue_deliveries([(delivery_id, attempts + 1)])
    return True
