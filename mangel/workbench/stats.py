"""Statistics and CSV export of the inbox selection (``/verwaltung/maengel/statistik``).

The export carries no personal data unless an admin ticks "mit Kontaktdaten".
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import median

from flask import abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lotse.auth import roles_required
from lotse.csvutil import csv_text
from lotse.extensions import db
from mangel.models import (
    OPEN_STATUSES,
    Category,
    QuestionType,
    Report,
    ReportStatus,
    StatusChange,
)
from mangel.workbench.intake import SOURCE_LABELS
from mangel.workbench.views import InboxFilter, bp

CLOSED_VALUES = [s.value for s in ReportStatus if s not in OPEN_STATUSES]
GROUPS = {
    "abteilung": lambda r: r.department.name if r.department else "–",
    "kategorie": lambda r: r.category.full_name,
    "kanal": lambda r: str(SOURCE_LABELS.get(r.source, r.source)),
}


def _closed_at():
    """When each report was first closed, as a subquery to join."""
    return (
        select(StatusChange.report_id, func.min(StatusChange.created_at).label("closed_at"))
        .where(StatusChange.status.in_(CLOSED_VALUES))
        .group_by(StatusChange.report_id)
        .subquery()
    )


def _days(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 86400


def _median(values: list[float]) -> str:
    return f"{median(values):.1f}" if values else "–"


def _choice_answers(report: Report) -> list[tuple[str, str]]:
    """The report's answers to questions with options (free text would not add up)."""
    choices = {q.label for q in report.category.questions if QuestionType(q.datatype).has_options}
    return [(q, a) for q, a in report.readable_answers() if q in choices]


def statistics(selection: InboxFilter, group: str) -> tuple[list[dict], list, list]:
    """Received, open, closed and median days to accept and close per group; received per
    month; how often each option of a choice question was answered."""
    closed = _closed_at()
    stmt = (
        selection.statement()
        .order_by(None)
        .add_columns(closed.c.closed_at)
        .outerjoin(closed, closed.c.report_id == Report.id)
        .options(
            joinedload(Report.department),
            joinedload(Report.category).selectinload(Category.questions),
        )
    )
    rows: dict[str, dict] = defaultdict(
        lambda: {"received": 0, "open": 0, "closed": 0, "accept": [], "close": []}
    )
    months: dict[str, int] = defaultdict(int)
    answers: dict[tuple[str, str], int] = defaultdict(int)
    for report, closed_at in db.session.execute(stmt):
        for line in _choice_answers(report):
            answers[line] += 1
        row = rows[GROUPS[group](report)]
        row["received"] += 1
        row["open" if report.status_enum.is_open else "closed"] += 1
        for key, end in (("accept", report.accepted_at), ("close", closed_at)):
            days = _days(report.created_at, end)
            if days is not None:
                row[key].append(days)
        months[report.created_at.strftime("%Y-%m")] += 1
    table = [
        {"name": name, **row, "accept": _median(row["accept"]), "close": _median(row["close"])}
        for name, row in sorted(rows.items())
    ]
    return table, sorted(months.items()), sorted((*k, n) for k, n in answers.items())


@bp.route("/statistik")
@roles_required("clerk")
def stats():
    """Key figures of the selection per department or category, and per month."""
    selection = InboxFilter.from_args(request.args)
    if not request.args.get("status"):
        selection.status = "alle"
    group = request.args.get("group") if request.args.get("group") in GROUPS else "abteilung"
    table, months, answers = statistics(selection, group)
    return render_template(
        "mangel/workbench/stats.html",
        table=table,
        months=months,
        answers=answers,
        group=group,
        selection=selection,
    )


EXPORT_COLUMNS = [
    ("id", lambda r: r.id),
    ("eingang", lambda r: r.created_at.isoformat()),
    ("kategorie", lambda r: r.category.full_name),
    ("abteilung", lambda r: r.department.name if r.department else ""),
    ("status", lambda r: r.status),
    ("strasse", lambda r: r.street),
    ("lat", lambda r: r.lat),
    ("lon", lambda r: r.lon),
    ("prioritaet", lambda r: r.priority),
    ("faellig", lambda r: r.due_date.isoformat() if r.due_date else ""),
    ("angenommen", lambda r: r.accepted_at.isoformat() if r.accepted_at else ""),
    ("beschreibung", lambda r: r.description),
    ("angaben", lambda r: "; ".join(f"{q}: {a}" for q, a in r.readable_answers())),
]
PERSONAL_COLUMNS = [
    ("name", lambda r: r.reporter_name),
    ("email", lambda r: r.reporter_email),
    ("telefon", lambda r: r.reporter_phone),
]


@bp.route("/meldungen/export.csv")
@roles_required("clerk")
def export_csv():
    """The inbox selection as CSV; contact data only for an admin who asks for it."""
    personal = request.args.get("personal") == "1"
    if personal and not current_user.is_admin:
        abort(403)
    columns = EXPORT_COLUMNS + (PERSONAL_COLUMNS if personal else [])
    selection = InboxFilter.from_args(request.args)
    reports = db.session.scalars(
        selection.statement().options(joinedload(Report.department), joinedload(Report.category))
    )
    body = csv_text(
        [name for name, _value in columns],
        ([value(report) for _name, value in columns] for report in reports),
    )
    response = current_app.response_class(body, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="meldungen.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
