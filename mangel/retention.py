"""Escalation reminders to departments and the retention of reporters' contact data.

``flask lotse sweep`` mails each department its reports not accepted or not worked on in
time; ``flask lotse purge`` removes contact data some days after closing (per category)
and deletes unconfirmed reports.  The public report always stays.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

import click
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from lotse.cli import lotse_cli
from lotse.extensions import db
from lotse.models import Department, utcnow
from lotse.outbox import queue_mail
from lotse.urls import public_url
from mangel import services
from mangel.jobs import REMINDER
from mangel.models import OPEN_STATUSES, Report, StatusChange, Support

log = logging.getLogger(__name__)
OPEN_VALUES = [s.value for s in OPEN_STATUSES]


def overdue_reports(now: datetime) -> list[Report]:
    """Open, public reports not accepted, or not changed, in time and not reminded since."""
    config = current_app.config
    accept_by = now - timedelta(days=config["MANGEL_REMIND_ACCEPT_DAYS"])
    work_by = now - timedelta(days=config["MANGEL_REMIND_WORK_DAYS"])
    return list(
        db.session.scalars(
            select(Report).where(
                Report.status.in_(OPEN_VALUES),
                Report.confirmed_at.is_not(None),
                Report.department_id.is_not(None),
                or_(
                    and_(Report.accepted_at.is_(None), Report.created_at < accept_by),
                    Report.updated_at < work_by,
                ),
                or_(Report.reminded_at.is_(None), Report.reminded_at < work_by),
            )
        )
    )


def remind(now: datetime | None = None) -> None:
    """Periodic: one mail per department listing its overdue reports, then mark them."""
    now = now or utcnow()
    by_department: dict[int, list[int]] = defaultdict(list)
    for report in overdue_reports(now):
        by_department[report.department_id].append(report.id)
    for department_id, ids in by_department.items():
        department = db.session.get(Department, department_id)
        if department.email:
            with force_locale("de"):
                queue_mail(
                    department.email,
                    _("%(n)d Meldungen warten auf Bearbeitung", n=len(ids)),
                    "mangel/emails/reminder",
                    kind=REMINDER,
                    ref=f"department:{department_id}",
                    links=[public_url("mangel_workbench.report_view", report_id=i) for i in ids],
                )
        # The mail and the mark in one transaction: reminded once, the outbox does the rest.
        db.session.execute(update(Report).where(Report.id.in_(ids)).values(reminded_at=now))
        db.session.commit()


def purge_contacts(now: datetime | None = None) -> int:
    """Clear name, e-mail and phone of reports closed longer ago than their category keeps
    them, and the addresses of their supporters.  A duplicate keeps them while its
    original is open: its people still follow that one."""
    now = now or utcnow()
    config = current_app.config
    default = config["MANGEL_CONTACT_RETENTION_DAYS"]
    per_category = {int(k): v for k, v in config["MANGEL_CONTACT_RETENTION_BY_CATEGORY"].items()}
    last_change = (
        select(StatusChange.report_id, func.max(StatusChange.created_at).label("closed_at"))
        .group_by(StatusChange.report_id)
        .subquery()
    )
    original = aliased(Report)
    candidates = db.session.execute(
        select(Report.id, Report.category_id, last_change.c.closed_at)
        .join(last_change, last_change.c.report_id == Report.id)
        .outerjoin(original, original.id == Report.duplicate_of_id)
        .where(
            Report.status.not_in(OPEN_VALUES),
            or_(original.id.is_(None), original.status.not_in(OPEN_VALUES)),
            or_(
                Report.reporter_name != "",
                Report.reporter_email != "",
                Report.reporter_phone != "",
                exists().where(Support.report_id == Report.id, Support.notify_email.is_not(None)),
            ),
        )
    ).all()
    due = [
        report_id
        for report_id, category_id, closed_at in candidates
        if closed_at < now - timedelta(days=per_category.get(category_id, default))
    ]
    if due:
        db.session.execute(
            update(Report)
            .where(Report.id.in_(due))
            .values(
                reporter_name="", reporter_email="", reporter_phone="", tracking_token_hash=None
            )
        )
        db.session.execute(
            update(Support).where(Support.report_id.in_(due)).values(notify_email=None)
        )
    return len(due)


@lotse_cli.command("purge")
def purge_command():
    """Remove reporters' contact data after closing and delete unconfirmed reports."""
    cleared = purge_contacts()
    reports, supports, files = services.purge_unconfirmed()
    db.session.commit()
    services.delete_photo_files(files)
    click.echo(
        f"Kontaktdaten aus {cleared} Meldungen entfernt, {reports} unbestätigte Meldungen "
        f"und {supports} Unterstützungen gelöscht."
    )
