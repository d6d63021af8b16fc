"""Liability dossier (Verkehrssicherungspflicht): what the town knew and did, and when.

For one report, or for every report on a street over a period, a chronological record: when
it was reported and confirmed, when it reached which department, who accepted it, every
status with its public note, internal notes, staff actions and photos — for the town's
answer to a damage claim.  Staff only, scoped like the workbench.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lotse.auth import roles_required
from lotse.extensions import db
from lotse.models import utcnow
from mangel.models import Report, ReportStatus
from mangel.routing.models import Delivery, DeliveryState, Purpose
from mangel.workbench.models import AuditEntry, InternalNote
from mangel.workbench.views import bp, report_or_404, visible

LOCAL_TZ = ZoneInfo("Europe/Berlin")
MAX_REPORTS = 200


@dataclass(frozen=True)
class Entry:
    when: datetime
    what: str
    who: str = ""
    text: str = ""
    internal: bool = False


def timeline(report: Report) -> list[Entry]:
    """Every recorded step of a report, oldest first."""
    entries = [Entry(report.created_at, str(_l("Gemeldet")), text=_channel(report))]
    if report.confirmed_at:
        entries.append(Entry(report.confirmed_at, str(_l("Bestätigt und öffentlich"))))
    deliveries = db.session.scalars(
        select(Delivery).where(
            Delivery.report_id == report.id,
            Delivery.purpose == Purpose.DEPARTMENT.value,
            Delivery.state == DeliveryState.SENT.value,
        )
    )
    for delivery in deliveries:
        name = delivery.department.name if delivery.department else _("Sammelpostfach")
        entries.append(
            Entry(
                delivery.sent_at,
                str(_l("Zugestellt an %(name)s", name=name)),
                text=delivery.recipient,
            )
        )
    if report.accepted_at:
        who = report.accepted_by.display_name if report.accepted_by else ""
        entries.append(Entry(report.accepted_at, str(_l("Angenommen (gesehen)")), who=who))
    for change in report.history:
        who = change.staff_user.display_name if getattr(change, "staff_user", None) else ""
        entries.append(
            Entry(
                change.created_at,
                str(_l("Status: %(status)s", status=ReportStatus(change.status).label)),
                who=who,
                text=change.public_note or "",
            )
        )
    for note in db.session.scalars(select(InternalNote).where(InternalNote.report_id == report.id)):
        who = note.staff_user.display_name if note.staff_user else ""
        entries.append(Entry(note.created_at, str(_l("Interne Notiz")), who, note.text, True))
    for item in db.session.scalars(select(AuditEntry).where(AuditEntry.report_id == report.id)):
        who = item.staff_user.display_name if item.staff_user else ""
        entries.append(Entry(item.created_at, item.action, who, item.detail, True))
    return sorted(entries, key=lambda e: e.when)


def _channel(report: Report) -> str:
    from mangel.workbench.intake import SOURCE_LABELS

    return str(_l("Eingang: %(channel)s", channel=SOURCE_LABELS.get(report.source, report.source)))


def _local(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ)


@bp.route("/meldungen/<int:report_id>/akte")
@roles_required("clerk")
def dossier(report_id: int):
    report = report_or_404(report_id)
    return render_template(
        "mangel/workbench/dossier.html",
        items=[(report, timeline(report))],
        title=_("Vorgangsakte Meldung Nr. %(id)d", id=report.id),
        local=_local,
        now_utc=utcnow,
    )


def _date_arg(name: str, default: date) -> date:
    value = request.args.get(name, "")
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(400)


@bp.route("/akte")
@roles_required("clerk")
def street_dossier():
    """Every report on a street within a period (``strasse``, ``von``, ``bis``)."""
    street = request.args.get("strasse", "").strip()[:120]
    until = _date_arg("bis", date.today())
    since = _date_arg("von", until - timedelta(days=365))
    if not street or since > until:
        abort(400)
    start = datetime.combine(since, time.min, LOCAL_TZ)
    end = datetime.combine(until + timedelta(days=1), time.min, LOCAL_TZ)
    reports = db.session.scalars(
        visible(select(Report))
        .where(Report.street == street, Report.created_at >= start, Report.created_at < end)
        .order_by(Report.created_at)
        .limit(MAX_REPORTS)
        .options(selectinload(Report.history), selectinload(Report.photos))
    ).all()
    return render_template(
        "mangel/workbench/dossier.html",
        items=[(report, timeline(report)) for report in reports],
        title=_(
            "Vorgangsakte %(street)s, %(since)s bis %(until)s",
            street=street,
            since=since.strftime("%d.%m.%Y"),
            until=until.strftime("%d.%m.%Y"),
        ),
        local=_local,
        now_utc=utcnow,
    )
