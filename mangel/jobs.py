"""Background work of the Mängelmelder: confirmation mails and the periodic purge.

Raw tokens exist only in the mail and in the job's arguments; the database holds hashes.
Each mail job checks the database first, so running it twice sends nothing stale.

These mails have no outbox row to fall back on, so the job itself must not get lost:
``send_soon`` sends right away when Redis does not take the job, and a job whose mail server
refuses schedules its own next attempt (``RETRY_DELAYS``) instead of failing for good.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from lotse.extensions import db
from lotse.mail import send_template
from lotse.queue import enqueue, run_inline
from lotse.urls import public_url
from mangel import services
from mangel.models import Report, Support

log = logging.getLogger(__name__)

RETRY_DELAYS = (10, 60, 300, 1800)  # seconds before the 2nd, 3rd, … attempt of a mail job


def send_soon(job: str, *args) -> None:
    """Queue a mail job after the commit; when Redis does not take it, send it now."""
    if not enqueue(job, *args):
        run_inline(current_app._get_current_object(), job, *args)


def _with_retry(job: str, args: tuple, attempt: int, send: Callable[[], None]) -> None:
    """Send; on failure schedule the next attempt, and raise only when none is left."""
    try:
        send()
    except Exception as exc:
        if attempt >= len(RETRY_DELAYS):
            raise
        delay = timedelta(seconds=RETRY_DELAYS[attempt])
        if not enqueue(job, *args, attempt + 1, delay=delay):
            raise
        log.warning("%s%r failed (%s), attempt %d in %s", job, args, exc, attempt + 2, delay)


def send_report_confirmation(report_id: int, token: str, attempt: int = 0) -> None:
    """Mail the reporter the link that confirms (and so publishes) their report."""
    report = db.session.get(Report, report_id)
    if report is None or report.confirmed_at is not None or not report.reporter_email:
        return

    def send() -> None:
        with force_locale("de"):
            send_template(
                report.reporter_email,
                _(
                    "Bitte bestätigen Sie Ihre Meldung an %(town)s",
                    town=current_app.config["TOWN_NAME"],
                ),
                "mangel/emails/confirm_report",
                report=report,
                link=public_url("mangel.confirm", kind="meldung", token=token),
                hours=current_app.config["MANGEL_CONFIRM_HOURS"],
            )

    _with_retry("mangel.jobs.send_report_confirmation", (report_id, token), attempt, send)


def send_tracking_link(report_id: int, token: str, attempt: int = 0) -> None:
    """Mail the reporter the private link to follow their confirmed report."""
    report = db.session.get(Report, report_id)
    if report is None or report.confirmed_at is None or not report.reporter_email:
        return

    def send() -> None:
        with force_locale("de"):
            send_template(
                report.reporter_email,
                _("Ihre Meldung Nr. %(id)d ist eingegangen", id=report.id),
                "mangel/emails/tracking_link",
                report=report,
                link=public_url("mangel.tracking", token=token),
            )

    _with_retry("mangel.jobs.send_tracking_link", (report_id, token), attempt, send)


def send_support_confirmation(support_id: int, email: str, token: str, attempt: int = 0) -> None:
    """Mail the link that counts a support; the address is kept only if news were asked for."""
    support = db.session.get(Support, support_id)
    if support is None or support.confirmed_at is not None:
        return

    def send() -> None:
        with force_locale("de"):
            send_template(
                email,
                _("Bitte bestätigen Sie Ihre Unterstützung"),
                "mangel/emails/confirm_support",
                report_id=support.report_id,
                stored=support.notify_email is not None,
                link=public_url("mangel.confirm", kind="unterstuetzung", token=token),
                hours=current_app.config["MANGEL_CONFIRM_HOURS"],
            )

    _with_retry("mangel.jobs.send_support_confirmation", (support_id, email, token), attempt, send)


def sweep() -> None:
    """Periodic: delete reports and supports never confirmed, and their photo files."""
    reports, supports, files = services.purge_unconfirmed()
    db.session.commit()
    services.delete_photo_files(files)
    if reports or supports:
        log.info("purged %d unconfirmed reports and %d supports", reports, supports)
