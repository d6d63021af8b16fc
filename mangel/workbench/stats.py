"""Statistics and CSV export of the inbox selection (``/verwaltung/maengel/statistik``).

The export carries no personal data unless an admin ticks "mit Kontaktdaten".
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import UTC, date, datetime
from statistics import median

from flask import abort, current_app, render_template, request
from flask_babel import format_date, format_decimal, to_user_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

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
from mangel.workbench.charts import LABEL_WIDTH, WIDTH, line_chart, stacked_bars
from mangel.workbench.intake import SOURCE_LABELS
from mangel.workbench.models import PRIORITY_LABELS
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
    """Median days in the German way ("23,9"), or a dash without any."""
    return format_decimal(median(values), "#,##0.0") if values else "–"


def _count(value: float) -> str:
    return format_decimal(value, "#,##0.#")


def _month(key: str, width: str) -> str:
    year, month = key.split("-")
    return format_date(date(int(year), int(month), 1), width)


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
            joinedload(Report.category).options(
                joinedload(Category.parent), selectinload(Category.questions)
            ),
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
    bars, bars_height, bars_top = stacked_bars(
        [(row["name"], row["open"], row["closed"]) for row in table], _count
    )
    # Every month on the axis while they fit, else every second, third … month.
    every = max(1, math.ceil(len(months) / 12))
    line = line_chart([(_month(key, "MMM yy"), n) for key, n in months], _count)
    return render_template(
        "mangel/workbench/stats.html",
        table=table,
        months=[(_month(key, "MMMM yyyy"), n) for key, n in months],
        answers=answers,
        group=group,
        selection=selection,
        bars=bars,
        bars_height=bars_height,
        bars_top=bars_top,
        line=line,
        label_every=every,
        count=_count,
        chart_width=WIDTH,
        label_width=LABEL_WIDTH,
    )


def _local(value: datetime | None) -> str:
    """A time as Excel in Germany reads it: Europe/Berlin, to the minute."""
    return to_user_timezone(value).strftime("%d.%m.%Y %H:%M") if value else ""


def _utc(value: datetime | None) -> str:
    """A time for other systems: UTC in ISO 8601, to the second."""
    if value is None:
        return ""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _comma(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".").replace(".", ",")


# (header for people, header for systems, value for people, value for systems)
EXPORT_COLUMNS = [
    (_l("Nr."), "id", lambda r: r.id, lambda r: r.id),
    (_l("Eingang"), "created_at", lambda r: _local(r.created_at), lambda r: _utc(r.created_at)),
    (
        _l("Kategorie"),
        "category",
        lambda r: r.category.full_name,
        lambda r: r.category_id,
    ),
    (
        _l("Abteilung"),
        "department",
        lambda r: r.department.name if r.department else "",
        lambda r: r.department_id or "",
    ),
    (_l("Status"), "status", lambda r: str(r.status_enum.label), lambda r: r.status),
    (_l("Straße"), "street", lambda r: r.street, lambda r: r.street),
    (_l("Breitengrad"), "lat", lambda r: _comma(r.lat), lambda r: r.lat),
    (_l("Längengrad"), "lon", lambda r: _comma(r.lon), lambda r: r.lon),
    (
        _l("Priorität"),
        "priority",
        lambda r: str(PRIORITY_LABELS.get(r.priority, r.priority)),
        lambda r: r.priority,
    ),
    (
        _l("Fällig"),
        "due_date",
        lambda r: r.due_date.strftime("%d.%m.%Y") if r.due_date else "",
        lambda r: r.due_date.isoformat() if r.due_date else "",
    ),
    (
        _l("Angenommen"),
        "accepted_at",
        lambda r: _local(r.accepted_at),
        lambda r: _utc(r.accepted_at),
    ),
    (_l("Beschreibung"), "description", lambda r: r.description, lambda r: r.description),
    (
        _l("Angaben"),
        "answers",
        lambda r: "; ".join(f"{q}: {a}" for q, a in r.readable_answers()),
        lambda r: json.dumps(r.answers or {}, ensure_ascii=False, sort_keys=True),
    ),
]
PERSONAL_COLUMNS = [
    (_l("Name"), "reporter_name", lambda r: r.reporter_name, lambda r: r.reporter_name),
    (_l("E-Mail"), "reporter_email", lambda r: r.reporter_email, lambda r: r.reporter_email),
    (_l("Telefon"), "reporter_phone", lambda r: r.reporter_phone, lambda r: r.reporter_phone),
]


def _export(for_systems: bool):
    """The inbox selection as CSV; contact data only for an admin who asks for it."""
    personal = request.args.get("personal") == "1"
    if personal and not current_user.is_admin:
        abort(403)
    columns = EXPORT_COLUMNS + (PERSONAL_COLUMNS if personal else [])
    selection = InboxFilter.from_args(request.args)
    reports = db.session.scalars(
        selection.statement().options(
            joinedload(Report.department),
            joinedload(Report.category).options(
                joinedload(Category.parent), selectinload(Category.questions)
            ),
        )
    )
    if for_systems:
        body = csv_text(
            [code for _label, code, _people, _systems in columns],
            ([value(report) for *_rest, value in columns] for report in reports),
            delimiter=",",
        )
        name = "meldungen-systeme.csv"
    else:
        # The byte order mark tells Excel the file is UTF-8 (else "StraÃŸe").
        body = "\ufeff" + csv_text(
            [str(label) for label, *_rest in columns],
            ([people(report) for _label, _code, people, _systems in columns] for report in reports),
        )
        name = "meldungen.csv"
    response = current_app.response_class(body, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/meldungen/export.csv")
@roles_required("clerk")
def export_csv():
    """The selection for a spreadsheet: German labels, local time, opens right in Excel."""
    return _export(for_systems=False)


@bp.route("/meldungen/export-systeme.csv")
@roles_required("clerk")
def export_csv_systems():
    """The selection for other systems: codes, ids and UTC times in ISO 8601, comma-separated."""
    return _export(for_systems=True)
