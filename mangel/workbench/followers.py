"""Who hears about a report's status besides its reporter: its followers.

Supporters who asked for news follow the report they supported.  When staff close a
report as Duplikat, its reporter and its supporters follow the original from then on
(FixMyStreet does the same).  The mails go through the routing outbox like the
reporter's own: one ``Delivery`` row per address, added before the view's commit.
"""

from __future__ import annotations

from sqlalchemy import select

from lotse.extensions import db
from lotse.models import normalise_email
from mangel.models import Report, StatusChange, Support
from mangel.routing.models import Purpose
from mangel.routing.rules import add_delivery
from mangel.signals import report_status_changed


def _family(report: Report):
    """The report itself and the duplicates that follow it."""
    return (Report.id == report.id) | (Report.duplicate_of_id == report.id)


def followers(report: Report) -> list[str]:
    """The addresses that follow a report, without its own reporter, each once."""
    family = _family(report)
    duplicate_reporters = db.session.scalars(
        select(Report.reporter_email).where(
            Report.duplicate_of_id == report.id, Report.reporter_email != ""
        )
    )
    supporters = db.session.scalars(
        select(Support.notify_email)
        .join(Report, Report.id == Support.report_id)
        .where(family, Support.confirmed_at.is_not(None), Support.notify_email.is_not(None))
    )
    own = normalise_email(report.reporter_email) if report.reporter_email else None
    emails = {normalise_email(e) for e in [*duplicate_reporters, *supporters]}
    return sorted(emails - {own})


@report_status_changed.connect
def notify_followers(report: Report, change: StatusChange, **_) -> None:
    """Queue the status mail for every follower (the reporter's comes from routing)."""
    for email in followers(report):
        add_delivery(report, Purpose.STATUS, email, status_change=change)
