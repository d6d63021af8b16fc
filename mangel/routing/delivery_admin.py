"""Staff view of the outboxes: deliveries and mails that failed or are stuck, "retry now",
and the daily summary to the admins."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from lotse.auth import admin_required
from lotse.extensions import db
from lotse.models import Role, StaffRole, User, utcnow
from lotse.outbox import queue_mail, retry_now, stuck_mails
from lotse.urls import public_url
from mangel.admin import bp
from mangel.forms import ConfirmForm
from mangel.jobs import STUCK_SUMMARY
from mangel.routing import delivery
from mangel.routing.failures import human_error, state_label
from mangel.routing.models import Delivery, DeliveryState, SweepMark

STUCK_AFTER = timedelta(hours=1)
SUMMARY = "stuck-deliveries-summary"
log = logging.getLogger(__name__)


def stuck_deliveries() -> list[Delivery]:
    """Given up, retrying after an error, or waiting for more than an hour."""
    since = utcnow() - STUCK_AFTER
    return list(
        db.session.scalars(
            select(Delivery)
            .options(joinedload(Delivery.report), joinedload(Delivery.department))
            .where(
                or_(
                    Delivery.state == DeliveryState.FAILED.value,
                    and_(
                        Delivery.state.in_(
                            [DeliveryState.PENDING.value, DeliveryState.SENDING.value]
                        ),
                        or_(Delivery.attempts > 0, Delivery.created_at < since),
                    ),
                )
            )
            .order_by(Delivery.created_at)
            .limit(500)
        )
    )


@bp.route("/zustellungen")
@admin_required
def deliveries():
    """Deliveries to departments and reporters that did not go out, with their last error."""
    return render_template(
        "mangel/admin/deliveries.html",
        deliveries=stuck_deliveries(),
        mails=stuck_mails(STUCK_AFTER),
        form=ConfirmForm(),
        human_error=human_error,
        delivery_state=delivery_state,
        mail_state=mail_state,
    )


def delivery_state(row: Delivery) -> str:
    """ "ausstehend", "fehlgeschlagen – nächster Versuch 14:05", … for a department delivery."""
    return state_label(
        sent=row.state == DeliveryState.SENT.value,
        given_up=row.state == DeliveryState.FAILED.value,
        cancelled=row.state == DeliveryState.CANCELLED.value,
        sending=row.state == DeliveryState.SENDING.value,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
    )


def mail_state(mail) -> str:
    """The same words for a mail of the outbox."""
    return state_label(
        given_up=mail.failed_at is not None,
        attempts=mail.attempts,
        next_attempt_at=mail.next_attempt_at,
    )


@bp.post("/zustellungen/<int:delivery_id>/erneut")
@admin_required
def delivery_retry(delivery_id: int):
    """Send a failed or waiting delivery now instead of at its next attempt."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if delivery.retry_now(delivery_id):
        flash(_("Die Zustellung Nr. %(id)d wird jetzt erneut versucht.", id=delivery_id), "success")
    else:
        flash(_("Die Zustellung Nr. %(id)d wartet nicht mehr.", id=delivery_id), "info")
    return redirect(url_for(".deliveries"))


@bp.post("/zustellungen/mail/<int:mail_id>/erneut")
@admin_required
def outbox_retry(mail_id: int):
    """Send a failed or waiting mail of the outbox now instead of at its next attempt."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if retry_now(mail_id):
        flash(_("Die E-Mail Nr. %(id)d wird jetzt erneut versucht.", id=mail_id), "success")
    else:
        flash(_("Die E-Mail Nr. %(id)d wartet nicht mehr.", id=mail_id), "info")
    return redirect(url_for(".deliveries"))


def daily_summary() -> None:
    """Sweep step: once a day, mail the admins a list of stuck deliveries (if any)."""
    now = utcnow()
    mark = db.session.get(SweepMark, SUMMARY)
    if mark is not None and now - mark.last_run < timedelta(days=1):
        return
    stuck = stuck_deliveries()
    mails = stuck_mails(STUCK_AFTER)
    admins = db.session.scalars(
        select(User.email).where(
            User.active,
            User.id.in_(select(StaffRole.user_id).where(StaffRole.role == Role.ADMIN.value)),
        )
    ).all()
    if (stuck or mails) and admins:
        with force_locale("de"):
            queue_mail(
                list(admins),
                _("Mängelmelder: %(count)d Zustellungen hängen", count=len(stuck) + len(mails)),
                "mangel/emails/stuck_summary",
                kind=STUCK_SUMMARY,
                deliveries=stuck,
                mails=mails,
                link=public_url("mangel_admin.deliveries"),
            )
    db.session.merge(SweepMark(name=SUMMARY, last_run=now))
    db.session.commit()
