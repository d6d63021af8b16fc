"""Liability dossier (Verkehrssicherungspflicht): what the town knew and did, and when.

For one report, or for every report on a street over a period, a chronological record: when
it was reported and confirmed, when it reached which department, who accepted it, every
status with its public note, internal notes, staff actions and photos — for the town's
answer to a damage claim.  Staff only, scoped like the workbench.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lotse.auth import roles_required
from lotse.extensions import db
from lotse.models import utcnow
from lotse.pdf import render_pdf
from mangel.models import Category, Report, ReportStatus, StatusChange
from mangel.routing.models import Delivery, DeliveryState, Purpose
from mangel.services import upload_dir
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
    return timelines([report])[0]


def timelines(reports: list[Report]) -> list[list[Entry]]:
    """``timeline`` of each report, in the same few queries however many reports there are."""
    ids = [report.id for report in reports]
    deliveries = _by_report(
        select(Delivery)
        .where(
            Delivery.report_id.in_(ids),
            Delivery.purpose == Purpose.DEPARTMENT.value,
            Delivery.state == DeliveryState.SENT.value,
        )
        .options(joinedload(Delivery.department))
    )
    notes = _by_report(
        select(InternalNote)
        .where(InternalNote.report_id.in_(ids))
        .options(joinedload(InternalNote.staff_user))
    )
    audit = _by_report(
        select(AuditEntry)
        .where(AuditEntry.report_id.in_(ids))
        .options(joinedload(AuditEntry.staff_user))
    )
    found = []
    for report in reports:
        entries = [Entry(report.created_at, str(_l("Gemeldet")), text=_channel(report))]
        if report.confirmed_at:
            entries.append(Entry(report.confirmed_at, str(_l("Bestätigt und öffentlich"))))
        for delivery in deliveries.get(report.id, []):
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
        for note in notes.get(report.id, []):
            who = note.staff_user.display_name if note.staff_user else ""
            entries.append(Entry(note.created_at, str(_l("Interne Notiz")), who, note.text, True))
        for item in audit.get(report.id, []):
            who = item.staff_user.display_name if item.staff_user else ""
            entries.append(Entry(item.created_at, str(item.label), who, item.text, True))
        found.append(sorted(entries, key=lambda e: e.when))
    return found


def _by_report(stmt) -> dict[int, list]:
    rows: dict[int, list] = {}
    for row in db.session.scalars(stmt):
        rows.setdefault(row.report_id, []).append(row)
    return rows


def _channel(report: Report) -> str:
    from mangel.workbench.intake import SOURCE_LABELS

    return str(_l("Eingang: %(channel)s", channel=SOURCE_LABELS.get(report.source, report.source)))


def _local(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ)


def _photo_data_uri(photo) -> str:
    """A photo's thumbnail inside the PDF itself (the printer fetches no URLs of ours)."""
    path = upload_dir() / photo.thumb_name
    data = path.read_bytes() if path.is_file() else b""
    return f"data:{photo.content_type};base64,{base64.b64encode(data).decode()}"


def _render(items, title: str, as_pdf: bool, filename: str):
    context = {"items": items, "title": title, "local": _local, "now_utc": utcnow}
    if not as_pdf:
        return render_template("mangel/workbench/dossier.html", **context)
    response = make_response(
        render_pdf("mangel/workbench/dossier.html", photo_src=_photo_data_uri, **context)
    )
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/meldungen/<int:report_id>/akte")
@bp.route("/meldungen/<int:report_id>/akte.pdf", endpoint="dossier_pdf")
@roles_required("clerk")
def dossier(report_id: int):
    report = report_or_404(report_id)
    return _render(
        [(report, timeline(report))],
        _("Vorgangsakte Meldung Nr. %(id)d", id=report.id),
        request.path.endswith(".pdf"),
        f"vorgangsakte-{report.id}.pdf",
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
@bp.route("/akte.pdf", endpoint="street_dossier_pdf")
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
        .options(
            selectinload(Report.history).joinedload(StatusChange.staff_user),
            selectinload(Report.photos),
            joinedload(Report.category).joinedload(Category.parent),
            joinedload(Report.department),
            joinedload(Report.accepted_by),
        )
    ).all()
    title = _(
        "Vorgangsakte %(street)s, %(since)s bis %(until)s",
        street=street,
        since=since.strftime("%d.%m.%Y"),
        until=until.strftime("%d.%m.%Y"),
    )
    items = list(zip(reports, timelines(reports), strict=True))
    return _render(items, title, request.path.endswith(".pdf"), "vorgangsakte-strasse.pdf")
