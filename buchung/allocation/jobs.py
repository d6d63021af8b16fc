"""Background work of a round: publishing and un-publishing it, and its result mails.

The office's click only marks the round (``publishing`` / ``revoking``) and hands its id
to the queue; ``run_publishing`` does the work, which may take minutes for a large
round.  Result mails: one per applicant, sent at most once; ``ResultMail`` is their
outbox (a row per mail, retried by the sweep), so they send inside ``lotse.mail.sending()``.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from buchung.allocation.models import AllocationRequest, AllocationRound, ResultMail, RoundState
from buchung.allocation.publishing import check, lock, publish, unpublish
from lotse.extensions import db
from lotse.mail import send_template, sending
from lotse.models import User, utcnow
from lotse.queue import enqueue

MAX_ATTEMPTS = 10
STUCK_AFTER = timedelta(minutes=30)  # longer than publishing the largest round takes


def start(
    round_: AllocationRound, state: RoundState, by: User | None = None, accepted_gaps: int = 0
) -> bool:
    """Mark the round for the job (``PUBLISHING`` from open, ``REVOKING`` from published);
    ``False`` when it is not in the state to start from (someone else was faster).
    Publishing records who published (``by``) and how many lost dates they accepted."""
    start_from = RoundState.OPEN if state == RoundState.PUBLISHING else RoundState.PUBLISHED
    values: dict = {"state": state, "job_queued_at": utcnow(), "job_error": None}
    if state == RoundState.PUBLISHING:
        values.update(published_by_id=by.id if by else None, accepted_gaps=accepted_gaps)
    changed = db.session.execute(
        update(AllocationRound)
        .where(AllocationRound.id == round_.id, AllocationRound.state == start_from)
        .values(**values)
    ).rowcount
    db.session.refresh(round_)
    return bool(changed)


def enqueue_publishing(round_id: int) -> None:
    """Hand the round's publishing (or un-publishing) to the queue; call after the commit.

    The job id names the attempt (the time it was queued): a failed or killed attempt
    stays in RQ's registry for days and must not keep a retry out.
    """
    queued_at = db.session.scalar(
        select(AllocationRound.job_queued_at).where(AllocationRound.id == round_id)
    )
    stamp = int(queued_at.timestamp()) if queued_at else 0
    enqueue(
        "buchung.allocation.jobs.run_publishing",
        round_id,
        job_id=f"allocation-publish-{round_id}-{stamp}",
        timeout=int(STUCK_AFTER.total_seconds()),
    )


def run_publishing(round_id: int) -> None:
    """Publish or un-publish the round as the office asked, then mail the results.

    Runs twice without harm: the round row is locked and its state read again, and
    ``publish`` books only allocations without a series.  On failure nothing is kept, the
    round returns to where it was and shows the error, and the office may try again.
    """
    round_ = db.session.get(AllocationRound, round_id)
    if round_ is None:
        return
    lock(round_)
    db.session.refresh(round_)
    state = round_.state
    if state not in (RoundState.PUBLISHING, RoundState.REVOKING):
        db.session.rollback()
        return
    try:
        if state == RoundState.PUBLISHING:
            publish(round_)
        else:
            unpublish(round_)
        db.session.execute(
            update(AllocationRound)
            .where(AllocationRound.id == round_id)
            .values(job_queued_at=None, job_error=None)
        )
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        back = RoundState.OPEN if state == RoundState.PUBLISHING else RoundState.PUBLISHED
        db.session.execute(
            update(AllocationRound)
            .where(AllocationRound.id == round_id, AllocationRound.state == state)
            .values(state=back, job_queued_at=None, job_error=f"{type(exc).__name__}: {exc}")
        )
        db.session.commit()
        raise
    if state == RoundState.PUBLISHING:
        enqueue_result_mails(round_id)


def enqueue_result_mails(round_id: int) -> None:
    """Hand the round's unsent result mails to the queue; call after the commit."""
    for mail_id in db.session.scalars(
        select(ResultMail.id).where(ResultMail.round_id == round_id, ResultMail.sent_at.is_(None))
    ):
        _enqueue(mail_id)


def _enqueue(mail_id: int) -> None:
    # Job ids are global in a Redis database: the queue name keeps towns (and test runs)
    # sharing one Redis from taking each other's result mails for duplicates.
    prefix = current_app.config["QUEUE_NAME"]
    enqueue(
        "buchung.allocation.jobs.send_result",
        mail_id,
        job_id=f"{prefix}-allocation-result-{mail_id}",
    )


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
                with sending():  # ResultMail is this mail's outbox row
                    send_template(
                        recipients,
                        str(_l("Ergebnis der Saisonvergabe: %(name)s", name=mail.round.name)),
                        "buchung/allocation/emails/result",
                        round=mail.round,
                        club=mail.club,
                        requests=requests,
                        units=check(mail.round).by_allocation(),
                    )
            except Exception as exc:
                db.session.rollback()
                _mark(mail_id, f"{type(exc).__name__}: {exc}")
                db.session.commit()
                raise
    _mark(mail_id)
    db.session.commit()


def enqueue_receipt(request_id: int) -> None:
    """Hand an application's receipt mail to the queue; call after the commit."""
    enqueue(
        "buchung.allocation.jobs.send_receipt",
        request_id,
        job_id=f"allocation-receipt-{request_id}",
    )


def send_receipt(request_id: int) -> None:
    """Mail the applicant what it applied for: team, class, times, halls, deadline."""
    application = db.session.get(AllocationRequest, request_id)
    if application is None or application.receipt_sent_at is not None:
        return
    recipients = [m.email for m in application.club.members if m.confirmed_at is not None]
    values: dict = {"receipt_attempts": AllocationRequest.receipt_attempts + 1}
    if recipients:
        base_url = current_app.config["PUBLIC_BASE_URL"]
        with current_app.test_request_context("/", base_url=base_url):
            try:
                with sending():  # the application row is this mail's outbox
                    send_template(
                        recipients,
                        str(
                            _l(
                                "Antrag eingegangen: %(team)s (%(name)s)",
                                team=application.team,
                                name=application.round.name,
                            )
                        ),
                        "buchung/allocation/emails/receipt",
                        r=application,
                        round=application.round,
                    )
            except Exception:
                db.session.rollback()
                db.session.execute(
                    update(AllocationRequest)
                    .where(AllocationRequest.id == request_id)
                    .values(**values)
                )
                db.session.commit()
                raise
    values["receipt_sent_at"] = utcnow()
    db.session.execute(
        update(AllocationRequest).where(AllocationRequest.id == request_id).values(**values)
    )
    db.session.commit()


def _mark(mail_id: int, error: str = "") -> None:
    values = {"attempts": ResultMail.attempts + 1, "last_error": error}
    if not error:
        values["sent_at"] = utcnow()
    db.session.execute(update(ResultMail).where(ResultMail.id == mail_id).values(**values))


def sweep() -> None:
    """Publish rounds again whose job never ran or died (Redis was down, the worker was
    killed); send receipt and result mails again that did not go out (Redis was down,
    SMTP failed)."""
    stuck = list(
        db.session.scalars(
            select(AllocationRound.id).where(
                AllocationRound.state.in_([RoundState.PUBLISHING, RoundState.REVOKING]),
                AllocationRound.job_queued_at < utcnow() - STUCK_AFTER,
            )
        )
    )
    if stuck:
        db.session.execute(
            update(AllocationRound)
            .where(AllocationRound.id.in_(stuck))
            .values(job_queued_at=utcnow())
        )
        db.session.commit()
        for round_id in stuck:
            enqueue_publishing(round_id)
    stale = utcnow() - timedelta(minutes=2)
    for request_id in db.session.scalars(
        select(AllocationRequest.id).where(
            AllocationRequest.receipt_sent_at.is_(None),
            AllocationRequest.created_at < stale,
            AllocationRequest.receipt_attempts < MAX_ATTEMPTS,
        )
    ):
        enqueue_receipt(request_id)
    for mail_id in db.session.scalars(
        select(ResultMail.id).where(
            ResultMail.sent_at.is_(None),
            ResultMail.created_at < stale,
            ResultMail.attempts < MAX_ATTEMPTS,
        )
    ):
        _enqueue(mail_id)
