"""Background work of the Mängelmelder: confirmation mails and the periodic purge.

Raw tokens exist only in the mail and in the job's arguments; the database holds hashes.
Each mail job checks the database first, so running it twice sends nothing stale.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from lotse.extensions import db
from lotse.mail import send_template
from mangel import services
from mangel.models import Report, Support

log = logging.getLogger(__name__)


def public_url(endpoint: str, **values) -> str:
    """An absolute link for a mail, built on PUBLIC_BASE_URL (jobs have no request)."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def send_report_confirmation(report_id: int, token: str) -> None:
    """Mail the reporter the link that confirms (and so publishes) their report."""
    report = db.session.get(Report, report_id)
    if report is None or report.confirmed_at is not None or not report.reporter_email:
        return
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


def send_tracking_link(report_id: int, token: str) -> None:
    """Mail the reporter the private link to follow their confirmed report."""
    report = db.session.get(Report, report_id)
    if report is None or report.confirmed_at is None or not report.reporter_email:
        return
    with force_locale("de"):
        send_template(
            report.reporter_email,
            _("Ihre Meldung Nr. %(id)d ist eingegangen", id=report.id),
            "mangel/emails/tracking_link",
            report=report,
            link=public_url("mangel.tracking", token=token),
        )


def send_support_confirmation(support_id: int, email: str, token: str) -> None:
    """Mail the link that counts a support; the address itself is stored nowhere."""
    support = db.session.get(Support, support_id)
    if support is None or support.confirmed_at is not None:
        return
    with force_locale("de"):
        send_template(
            email,
            _("Bitte bestätigen Sie Ihre Unterstützung"),
            "mangel/emails/confirm_support",
            report_id=support.report_id,
            link=public_url("mangel.confirm", kind="unterstuetzung", token=token),
            hours=current_app.config["MANGEL_CONFIRM_HOURS"],
        )


def sweep() -> None:
    """Periodic: delete reports and supports never confirmed, and their photo files."""
    reports, supports, files = services.purge_unconfirmed()
    db.session.commit()
    services.delete_photo_files(files)
    if reports or supports:
        log.info("purged %d unconfirmed reports and %d supports", reports, supports)
