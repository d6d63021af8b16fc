"""What a reporter can do from their private tracking page: add information, withdraw.

Both go to the clerk responsible for the report by mail (through the outbox) and into the
report's audit log, where the workbench shows them among the staff's own entries
(``staff_user_id`` empty: the reporter did it).  Functions add and flush; the view commits.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lotse.extensions import db
from lotse.models import utcnow
from lotse.outbox import describe, queue_mail
from mangel import services
from mangel.models import Report
from mangel.photos import ProcessedPhoto
from mangel.routing.delivery import staff_link
from mangel.workbench.models import AuditEntry

ADDITION = "mangel.citizen_addition"
WITHDRAWN = "mangel.withdrawn"
describe(ADDITION, _l("Ergänzung der meldenden Person"))
describe(WITHDRAWN, _l("Meldung von der meldenden Person zurückgezogen"))

# Audit actions written by the reporter (the workbench labels them, see AUDIT_LABELS).
ADDED_ACTION = "citizen_addition"
WITHDRAWN_ACTION = "withdrawn"


def responsible_address(report: Report) -> str:
    """Who hears from the reporter: the clerk who took the report on, else the department's
    inbox, else the fallback inbox."""
    clerk = report.accepted_by
    if clerk is not None and clerk.active:
        return clerk.email
    if report.department is not None and report.department.email:
        return report.department.email
    return current_app.config["MANGEL_FALLBACK_EMAIL"]


def additions(report: Report) -> list[AuditEntry]:
    """What the reporter added and when, oldest first, for their tracking page."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.report_id == report.id, AuditEntry.action == ADDED_ACTION)
            .order_by(AuditEntry.id)
        )
    )


def add_information(report: Report, text: str, photos: list[ProcessedPhoto]) -> list[str]:
    """Store the reporter's addition (text and/or photos) and tell the responsible clerk.

    Photos join the report's photos; while the report's photos are public, a new one is held
    back until a clerk has looked at it.  Returns the files written (see ``add_photos``).
    """
    first_new = len(report.photos)
    written = services.add_photos(report, photos)
    new_photos = report.photos[first_new:]
    if report.photos_released:
        for photo in new_photos:
            photo.held = True
    parts = [text.strip()] if text.strip() else []
    if new_photos:
        parts.append(
            ngettext("%(num)d Foto hinzugefügt", "%(num)d Fotos hinzugefügt", len(new_photos))
        )
    db.session.add(
        AuditEntry(report_id=report.id, action=ADDED_ACTION, detail="\n".join(parts)[:4000])
    )
    db.session.flush()
    with force_locale("de"):
        queue_mail(
            responsible_address(report),
            _("Meldung Nr. %(id)d: Ergänzung der meldenden Person", id=report.id),
            "mangel/emails/citizen_addition",
            kind=ADDITION,
            ref=f"report:{report.id}",
            report=report,
            text=text.strip(),
            photo_count=len(new_photos),
            link=staff_link(report.id),
        )
    return written


def withdraw(report: Report, reason: str) -> None:
    """The reporter takes the report back: it leaves the public map, list and feed, and the
    responsible clerk is told; whether the spot still needs work is the clerk's call."""
    report.withdrawn_at = utcnow()
    report.hidden = True
    db.session.add(
        AuditEntry(report_id=report.id, action=WITHDRAWN_ACTION, detail=reason.strip()[:2000])
    )
    db.session.flush()
    with force_locale("de"):
        queue_mail(
            responsible_address(report),
            _("Meldung Nr. %(id)d wurde zurückgezogen", id=report.id),
            "mangel/emails/withdrawn",
            kind=WITHDRAWN,
            ref=f"report:{report.id}",
            report=report,
            reason=reason.strip(),
            link=staff_link(report.id),
        )
