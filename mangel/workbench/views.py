"""Staff workbench: the inbox of reports and the report view (``/verwaltung/maengel``).

Clerks see the reports of their departments only, in lists and by URL alike; admins see
all.  The actions on a report live in ``mangel.workbench.actions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import shapely
from flask import Blueprint, abort, current_app, render_template, request, url_for
from sqlalchemy import Select, exists, false, func, or_, select
from sqlalchemy.orm import joinedload

from lotse.auth import department_scope, roles_required
from lotse.extensions import db
from lotse.geo import geometry_from_geojson
from lotse.models import Department, utcnow
from mangel import services
from mangel.models import (
    OPEN_STATUSES,
    Category,
    Report,
    ReportPhoto,
    ReportStatus,
)
from mangel.routing.models import Area
from mangel.views import map_config
from mangel.workbench.forms import (
    PRIORITY_LABELS,
    ActionForm,
    BulkForm,
    CategoryForm,
    ForwardForm,
    LocationForm,
    ModerationForm,
    NoteForm,
    PlanForm,
    RedactForm,
    StatusForm,
)
from mangel.workbench.models import AuditEntry, InternalNote, ResponseTemplate
from mangel.workbench.search import search_clause

bp = Blueprint("mangel_workbench", __name__, url_prefix="/verwaltung/maengel")

SORTS = {
    "neu": (Report.created_at.desc(), Report.id.desc()),
    "alt": (Report.created_at.asc(), Report.id.asc()),
    "prioritaet": (Report.priority.desc(), Report.created_at.asc(), Report.id.asc()),
    "faellig": (Report.due_date.asc().nulls_last(), Report.id.asc()),
}
OPEN_VALUES = [s.value for s in OPEN_STATUSES]


def visible(stmt: Select) -> Select:
    """Restrict a report query to what the current staff member may see."""
    return stmt.where(department_scope(Report.department_id))


def report_or_404(report_id: int) -> Report:
    """A report the current staff member may work on; 404 for everybody else's."""
    report = db.session.scalar(visible(select(Report).where(Report.id == report_id)))
    if report is None:
        abort(404)
    return report


def visible_departments() -> list[Department]:
    stmt = select(Department).where(department_scope(Department.id))
    return list(db.session.scalars(stmt.order_by(Department.name)))


@dataclass
class InboxFilter:
    """The inbox selection as read from the query string (shared by list, map, export)."""

    status: str = ""
    category: int | None = None
    department: int | None = None
    area: int | None = None
    age: int | None = None  # older than this many days
    photo: bool = False
    overdue: bool = False
    q: str = ""
    sort: str = "neu"

    @classmethod
    def from_args(cls, args) -> InboxFilter:
        def number(name: str) -> int | None:
            value = args.get(name, "")
            return int(value) if value.isdigit() else None

        status = args.get("status", "")
        valid_status = status in ReportStatus._value2member_map_ or status in ("offen", "alle")
        return cls(
            status=status if valid_status else "",
            category=number("category"),
            department=number("department"),
            area=number("area"),
            age=number("age"),
            photo=args.get("photo") == "1",
            overdue=args.get("overdue") == "1",
            q=args.get("q", "").strip()[:200],
            sort=args.get("sort") if args.get("sort") in SORTS else "neu",
        )

    def args(self) -> dict:
        """The filter as query-string arguments, for links to other pages of the selection."""
        values = {
            "status": self.status,
            "category": self.category,
            "department": self.department,
            "area": self.area,
            "age": self.age,
            "photo": "1" if self.photo else None,
            "overdue": "1" if self.overdue else None,
            "q": self.q,
            "sort": self.sort if self.sort != "neu" else None,
        }
        return {k: v for k, v in values.items() if v}

    def statement(self) -> Select:
        """The visible reports matching the filter, in the chosen order."""
        stmt = visible(select(Report))
        if self.status == "alle":
            pass
        elif self.status in ReportStatus._value2member_map_:
            stmt = stmt.where(Report.status == self.status)
        else:  # default: everything still open
            stmt = stmt.where(Report.status.in_(OPEN_VALUES))
        if self.category:
            stmt = stmt.where(Report.category_id == self.category)
        if self.department:
            stmt = stmt.where(Report.department_id == self.department)
        if self.area:
            area = db.session.get(Area, self.area)
            stmt = stmt.where(in_area(area) if area else false())
        if self.age:
            stmt = stmt.where(Report.created_at < utcnow() - timedelta(days=self.age))
        if self.photo:
            stmt = stmt.where(exists().where(ReportPhoto.report_id == Report.id))
        if self.overdue:
            stmt = stmt.where(Report.due_date < date.today(), Report.status.in_(OPEN_VALUES))
        if self.q:
            stmt = stmt.where(search_clause(self.q))
        return stmt.order_by(*SORTS[self.sort])

    def after(self, report: Report):
        """The reports that come after this one in the selection's order (``SORTS``)."""
        created, rid = report.created_at, report.id
        if self.sort == "neu":
            return or_(
                Report.created_at < created, (Report.created_at == created) & (Report.id < rid)
            )
        later = or_(Report.created_at > created, (Report.created_at == created) & (Report.id > rid))
        if self.sort == "alt":
            return later
        if self.sort == "prioritaet":
            return or_(
                Report.priority < report.priority, (Report.priority == report.priority) & later
            )
        if report.due_date is None:  # "faellig": reports without a date come last
            return Report.due_date.is_(None) & (Report.id > rid)
        return or_(
            Report.due_date > report.due_date,
            (Report.due_date == report.due_date) & (Report.id > rid),
            Report.due_date.is_(None),
        )


def in_area(area: Area):
    """Reports inside an area: its bounding box in SQL, then the exact shape.

    The database has no geometry type on either engine, so shapely tests the points in
    the box and the clause names the fewer of the ids inside or outside the shape.
    """
    in_box = Report.lat.between(area.min_lat, area.max_lat) & Report.lon.between(
        area.min_lon, area.max_lon
    )
    rows = db.session.execute(select(Report.id, Report.lat, Report.lon).where(in_box)).all()
    if not rows:
        return false()
    ids, lats, lons = zip(*rows, strict=True)
    flags = shapely.contains_xy(geometry_from_geojson(area.geojson), lons, lats)
    inside = [i for i, flag in zip(ids, flags, strict=True) if flag]
    if len(inside) <= len(ids) / 2:
        return Report.id.in_(inside)
    return in_box & Report.id.not_in(sorted(set(ids) - set(inside)))


def paginate_capped(stmt: Select):
    """One page of the selection, and whether it holds more than the page total says.

    Counting a broad search to the last row costs more than the list itself, so the
    count stops a little past ``MANGEL_INBOX_COUNT_LIMIT`` or past the page shown; the
    pages still go on one by one from there.
    """
    config = current_app.config
    page = db.paginate(stmt, per_page=config["MANGEL_PAGE_SIZE"], error_out=False, count=False)
    limit = max(config["MANGEL_INBOX_COUNT_LIMIT"], page.page * page.per_page) + 1
    page.total = db.session.scalar(
        select(func.count()).select_from(stmt.order_by(None).limit(limit).subquery())
    )
    return page, page.total == limit


@bp.route("/meldungen/")
@roles_required("clerk")
def inbox():
    """The reports of the clerk's departments, filtered, searched, sorted and paged."""
    selection = InboxFilter.from_args(request.args)
    page, more = paginate_capped(selection.statement())
    return render_template(
        "mangel/workbench/inbox.html",
        page=page,
        more=more,
        selection=selection,
        statuses=list(ReportStatus),
        categories=db.session.scalars(
            select(Category)
            .where(Category.parent_id.is_not(None))
            .order_by(Category.name)
            .options(joinedload(Category.parent))
        ).all(),
        departments=visible_departments(),
        areas=db.session.scalars(select(Area).order_by(Area.name)).all(),
        today=date.today(),
        open_values=OPEN_VALUES,
        priorities=PRIORITY_LABELS,
        bulk_form=BulkForm(),
    )


@bp.route("/meldungen/karte")
@roles_required("clerk")
def inbox_map():
    """The inbox selection on a map (the first reports of it), with a list beside it."""
    selection = InboxFilter.from_args(request.args)
    limit = current_app.config["MANGEL_MAP_MAX_POINTS"]
    reports = db.session.scalars(
        selection.statement().limit(limit).options(joinedload(Report.category))
    ).all()
    points = [
        {
            "lat": r.lat,
            "lon": r.lon,
            "label": f"{r.id}: {r.category.name}",
            "url": url_for(".report_view", report_id=r.id),
        }
        for r in reports
    ]
    return render_template(
        "mangel/workbench/inbox_map.html",
        reports=reports,
        points=points,
        limit=limit,
        selection=selection,
        map_config=map_config(),
    )


def next_report(report: Report, selection: InboxFilter) -> Report | None:
    """The report after this one in the inbox selection it was opened from."""
    return db.session.scalar(selection.statement().where(selection.after(report)).limit(1))


def templates_for(report: Report) -> list[ResponseTemplate]:
    """The response templates that fit a report's category (or all categories), by title."""
    return list(
        db.session.scalars(
            select(ResponseTemplate)
            .where(
                or_(
                    ResponseTemplate.category_id.is_(None),
                    ResponseTemplate.category_id == report.category_id,
                )
            )
            .order_by(ResponseTemplate.title)
        )
    )


def _status_form(report: Report, templates: list[ResponseTemplate]) -> StatusForm:
    """The status form, filled from a template when one was inserted (the no-script way)."""
    chosen = next((t for t in templates if str(t.id) == request.args.get("baustein")), None)
    if chosen is None:
        return StatusForm(status=report.status)
    return StatusForm(status=chosen.status or report.status, public_note=chosen.text)


def render_report(report: Report, **forms):
    """The report with everything staff need, and a form for each action."""
    templates = templates_for(report)
    selection = InboxFilter.from_args(request.args)
    status_form = forms.get("status_form") or _status_form(report, templates)
    return render_template(
        "mangel/workbench/report.html",
        report=report,
        selection=selection,
        next_report=next_report(report, selection),
        action_form=ActionForm(),
        status_form=status_form,
        note_form=forms.get("note_form") or NoteForm(),
        plan_form=forms.get("plan_form")
        or PlanForm(priority=report.priority, due_date=report.due_date),
        moderation_form=forms.get("moderation_form") or ModerationForm(obj=report),
        forward_form=ForwardForm(department_id=report.department_id or 0),
        category_form=CategoryForm(category_id=report.category_id),
        location_form=forms.get("location_form") or LocationForm(lat=report.lat, lon=report.lon),
        redact_form=forms.get("redact_form") or RedactForm(),
        redact_photo_id=forms.get("redact_photo_id"),
        nearby=[
            r
            for r in services.find_duplicates(report.category, report.lat, report.lon)
            if r.id != report.id
        ],
        notes=db.session.scalars(
            select(InternalNote)
            .where(InternalNote.report_id == report.id)
            .order_by(InternalNote.id)
        ).all(),
        audit=db.session.scalars(
            select(AuditEntry).where(AuditEntry.report_id == report.id).order_by(AuditEntry.id)
        ).all(),
        priorities=PRIORITY_LABELS,
        response_templates=templates,
        map_config=map_config(),
    )


@bp.route("/meldungen/<int:report_id>")
@roles_required("clerk")
def report_view(report_id: int):
    """One report with private contact data, photos, map, history, notes and audit log."""
    response = current_app.make_response(render_report(report_or_404(report_id)))
    response.headers["Cache-Control"] = "private, no-store"
    return response
