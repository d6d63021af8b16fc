"""Public pages of the Mängelmelder: map, list, report page, GeoJSON, feed, photos.

Nothing here ever shows a reporter's name, e-mail address or phone number.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from lotse.auth import in_department_scope
from lotse.extensions import db, limiter
from lotse.formatting import date_formatter
from lotse.geo import town_bounds
from lotse.inputs import DB_INT_MAX
from lotse.urls import public_url, url_filler
from mangel import services
from mangel.forms import SupportForm
from mangel.mapdata import map_geojson, parse_bbox
from mangel.models import Category, Report, ReportPhoto, ReportStatus
from mangel.photos import photo_path
from mangel.places import search_addresses

bp = Blueprint("mangel", __name__, url_prefix="/maengel")

FEED_SIZE = 50
MAX_PAGE = 10_000  # deeper pages read too far into the index; the filters narrow down


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _status_arg() -> str | None:
    value = request.args.get("status", "")
    return value if value in ReportStatus._value2member_map_ else None


def map_config() -> dict:
    """What the map script needs, handed over as data attributes (no inline script: CSP)."""
    config = current_app.config
    return {
        "bounds": town_bounds(),
        "center": config["MAP_CENTER"],
        "zoom": config["MAP_ZOOM"],
        "tiles": config["TILE_URL"],
        "attribution": config["TILE_ATTRIBUTION"],
        "zoom_in": _("Karte vergrößern"),
        "zoom_out": _("Karte verkleinern"),
    }


def marker_names(categories: list[Category]) -> dict:
    """How the overview map names its markers: "Meldung Nr. 32: Schlagloch, in Bearbeitung"."""
    return {
        "report": _("Meldung Nr. %(id)s: %(category)s, %(status)s"),
        "cluster": _("%(count)s Meldungen – aktivieren zum Vergrößern"),
        "categories": {c.id: c.name for c in categories},
        "statuses": {s.value: str(s.label) for s in ReportStatus},
    }


@dataclass(frozen=True)
class ListedReport:
    """A report as the public list shows it, with its link and date already written."""

    id: int
    url: str
    category: str
    status: ReportStatus
    reported_on: str
    street: str
    supports: int


class ListPage:
    """One page of a list, with its neighbours but without counting the whole list.

    Counting every public report per view reads the whole table; one row more than the
    page tells whether there is a next page.
    """

    def __init__(self, stmt, page: int, per_page: int):
        rows = db.session.execute(stmt.offset((page - 1) * per_page).limit(per_page + 1)).all()
        self.items = rows[:per_page]
        self.page = page
        self.has_prev = page > 1
        self.has_next = len(rows) > per_page
        self.prev_num = page - 1
        self.next_num = page + 1


@bp.route("/")
def index():
    """Map and list of public reports, filtered by category and status, page by page."""
    category_id, status = _int_arg("category"), _status_arg()
    stmt = select(
        Report.id, Report.category_id, Report.status, Report.street, Report.created_at
    ).where(services.public_condition())
    if category_id:
        stmt = stmt.where(Report.category_id == category_id)
    if status:
        stmt = stmt.where(Report.status == status)
    page = ListPage(
        stmt.order_by(Report.created_at.desc(), Report.id.desc()),
        min(_int_arg("page") or 1, MAX_PAGE),
        current_app.config["MANGEL_PAGE_SIZE"],
    )
    # All categories at once: the leaves' full names need their parents, the map all names.
    all_categories = db.session.scalars(select(Category)).all()
    names = {c.id: c.name for c in all_categories}
    report_url = url_filler(url_for("mangel.report_page", report_id=DB_INT_MAX), DB_INT_MAX)
    reported_on = date_formatter("medium")
    supports = services.support_counts(row.id for row in page.items)
    page.items = [
        ListedReport(
            id=row.id,
            url=report_url(row.id),
            category=names[row.category_id],
            status=ReportStatus(row.status),
            reported_on=reported_on(row.created_at),
            street=row.street,
            supports=supports.get(row.id, 0),
        )
        for row in page.items
    ]
    return render_template(
        "mangel/index.html",
        page=page,
        categories=sorted(
            (c for c in all_categories if c.parent_id is not None), key=lambda c: c.name
        ),
        statuses=list(ReportStatus),
        category_id=category_id,
        status=status,
        map_config=map_config(),
        marker_names=marker_names(all_categories),
        filter_args={k: v for k, v in (("category", category_id), ("status", status)) if v},
    )


@bp.route("/karte.json")
def geojson():
    """Pins of public reports inside the visible box (``bbox=west,south,east,north``)."""
    bbox = parse_bbox(request.args.get("bbox", ""))
    if bbox is None:
        abort(400)
    body = map_geojson(bbox, _int_arg("category"), _status_arg())
    response = current_app.response_class(body, mimetype="application/geo+json")
    response.headers["Cache-Control"] = "public, max-age=30"
    return response


@bp.route("/adressen.json")
@limiter.limit(lambda: current_app.config["MANGEL_ADDRESS_LIMIT_PER_IP"])
def address_search():
    """Suggestions for the address field: addresses of the town starting like the typing."""
    results = [
        {"label": a.label, "lat": a.lat, "lon": a.lon}
        for a in search_addresses(request.args.get("q", ""))
    ]
    return jsonify(results)


def render_report(report: Report, *, form: SupportForm | None = None, private: bool = False):
    """The report page: public facts, released text and photos, history, support."""
    return render_template(
        "mangel/report.html",
        report=report,
        form=form or SupportForm(),
        support_count=services.support_counts([report.id]).get(report.id, 0),
        private=private,
        map_config=map_config(),
    )


@bp.route("/<int:report_id>")
def report_page(report_id: int):
    """One public report with its status history, staff notes and support button."""
    report = services.public_report(report_id)
    if report is None:
        abort(404)
    return render_report(report)


@bp.route("/verfolgen/<token>")
def tracking(token: str):
    """The reporter's private page: their own description even before it is released."""
    report = services.report_by_tracking_token(token)
    if report is None:
        abort(404)
    response = current_app.make_response(render_report(report, private=True))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/fotos/<name>")
def photo(name: str):
    """A stored photo or thumbnail: to everyone once released, to staff always."""
    row = db.session.execute(
        select(ReportPhoto, Report)
        .join(Report)
        .where(or_(ReportPhoto.file_name == name, ReportPhoto.thumb_name == name))
    ).first()
    if row is None:
        abort(404)
    photo_row, report = row
    released = report.is_public and photo_row in report.public_photos
    staff = in_department_scope(report.department_id) and current_user.has_role("clerk")
    if not (released or staff):
        abort(404)
    path = photo_path(services.upload_dir(), name)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=photo_row.content_type, max_age=3600 if released else 0)
    if not released:
        response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/feed.atom")
def feed():
    """Atom feed of new and changed public reports, for one category or a map area."""
    stmt = services.public_reports()
    category_id = _int_arg("category")
    if category_id:
        stmt = stmt.where(Report.category_id == category_id)
    if "bbox" in request.args:
        bbox = parse_bbox(request.args["bbox"])
        if bbox is None:
            abort(400)
        west, south, east, north = bbox
        stmt = stmt.where(Report.lat.between(south, north), Report.lon.between(west, east))
    reports = db.session.scalars(
        stmt.options(selectinload(Report.category).joinedload(Category.parent))
        .order_by(Report.updated_at.desc(), Report.id.desc())
        .limit(FEED_SIZE)
    ).all()
    category = db.session.get(Category, category_id) if category_id else None
    body = render_template(
        "mangel/feed.xml",
        reports=reports,
        category=category,
        self_url=public_url("mangel.feed", **request.args),
    )
    return current_app.response_class(body, mimetype="application/atom+xml")
