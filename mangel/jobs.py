"""The Mängelmelder's mails to citizens (confirmation, tracking link, support) and the purge.

Each mail is an outbox row (``lotse.outbox.queue_mail``) written in the transaction that
issues its token: it leaves after the commit, is retried until the mail server takes it,
and every attempt carries the same link.  The raw token is in the mail's body only, which
the outbox clears once sent; the database holds hashes.  A confirmation link's time runs
from the moment its mail went out (``_restart_expiry``), not from the report.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from lotse.extensions import db
from lotse.outbox import OutboxMail, describe, on_sent, queue_mail
from lotse.urls import public_url
from mangel import drafts, services
from mangel.models import Report, Support

log = logging.getLogger(__name__)

CONFIRM = "mangel.confirm"
TRACKING = "mangel.tracking"
SUPPORT = "mangel.support_confirm"
REMINDER = "mangel.reminder"
STUCK_SUMMARY = "mangel.stuck_summary"
describe(CONFIRM, _l("Bestätigungslink einer Meldung"))
describe(TRACKING, _l("Privater Link zu einer Meldung"))
describe(SUPPORT, _l("Bestätigungslink einer Unterstützung"))
describe(REMINDER, _l("Erinnerung an einen Fachbereich"))
describe(STUCK_SUMMARY, _l("Tägliche Übersicht hängender Zustellungen"))


def queue_report_confirmation(report: Report, token: str) -> None:
    """Mail the reporter the link that confirms (and so publishes) their report."""
    db.session.flush()
    with force_locale("de"):
        queue_mail(
            report.reporter_email,
            _(
                "Bitte bestätigen Sie Ihre Meldung an %(town)s",
                town=current_app.config["TOWN_NAME"],
            ),
            "mangel/emails/confirm_report",
            kind=CONFIRM,
            ref=f"report:{report.id}",
            report=report,
            link=public_url("mangel.confirm", kind="meldung", token=token),
            hours=current_app.config["MANGEL_CONFIRM_HOURS"],
        )


def queue_tracking_link(report: Report, token: str) -> None:
    """Mail the reporter the private link to follow their confirmed report."""
    db.session.flush()
    with force_locale("de"):
        queue_mail(
            report.reporter_email,
            _("Ihre Meldung Nr. %(id)d ist eingegangen", id=report.id),
            "mangel/emails/tracking_link",
            kind=TRACKING,
            ref=f"report:{report.id}",
            report=report,
            link=public_url("mangel.tracking", token=token),
        )


def queue_support_confirmation(support: Support, email: str, token: str) -> None:
    """Mail the link that counts a support; the address is kept only if news were asked for."""
    db.session.flush()
    with force_locale("de"):
        queue_mail(
            email,
            _("Bitte bestätigen Sie Ihre Unterstützung"),
            "mangel/emails/confirm_support",
            kind=SUPPORT,
            ref=f"support:{support.id}",
            report_id=support.report_id,
            stored=support.notify_email is not None,
            link=public_url("mangel.confirm", kind="unterstuetzung", token=token),
            hours=current_app.config["MANGEL_CONFIRM_HOURS"],
        )


def _restart_expiry(mail: OutboxMail, sent_at: datetime) -> None:
    """The link's hours count from its mail's sending: a mail held up by an outage does not
    arrive with a link that is about to expire, and the report is not purged before."""
    expires = sent_at + timedelta(hours=current_app.config["MANGEL_CONFIRM_HOURS"])
    name, _, item_id = (mail.ref or "").partition(":")
    if name == "report":
        db.session.execute(
            update(Report)
            .where(Report.id == int(item_id), Report.confirmed_at.is_(None))
            .values(confirm_expires_at=expires)
            .execution_options(synchronize_session=False)
        )
    elif name == "support":
        db.session.execute(
            update(Support)
            .where(Support.id == int(item_id), Support.confirmed_at.is_(None))
            .values(token_expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        # "Ihre E-Mail-Adresse speichern wir nicht": the outbox forgets it once sent.
        db.session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail.id)
            .values(recipient="")
            .execution_options(synchronize_session=False)
        )


on_sent(CONFIRM, _restart_expiry)
on_sent(SUPPORT, _restart_expiry)


def sweep() -> None:
    """Periodic: delete reports and supports never confirmed, and their photo files, and
    report drafts left for a day."""
    reports, supports, files = services.purge_unconfirmed()
    db.session.commit()
    services.delete_photo_files(files)
    drafts.purge_old()
    if reports or supports:
        log.info("purged %d unconfirmed reports and %d supports", reports, supports)
