"""Public pages of the Mängelmelder: map data, report page, feed, photos (the list:
``mangel.public_list``).

Nothing here ever shows a reporter's name, e-mail address or phone number.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from lotse.auth import in_department_scope
from lotse.errors import render_error, wants_json
from lotse.extensions import db, limiter
from lotse.geo import town_bounds
from lotse.requestcost import without_session
from lotse.urls import public_url
from mangel import services
from mangel.forms import SupportForm
from mangel.mapdata import map_answer, parse_bbox
from mangel.models import Category, Report, ReportPhoto, ReportStatus
from mangel.photos import photo_path
from mangel.places import search_addresses

bp = Blueprint("mangel", __name__, url_prefix="/maengel")

FEED_SIZE = 50


class FilterError(ValueError):
    """A filter value of the map or list that does not exist; the message says which."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def filter_args() -> dict:
    """The list's and map's filters from the query string; unknown values raise FilterError.

    Silently ignoring ``status=bogus`` would show every report as if it were filtered.
    """
    args: dict = {}
    category = request.args.get("category", "")
    if category:
        category_id = (
            int(category)
            if category.isascii() and category.isdigit() and len(category) < 10
            else None
        )
        if category_id is None or db.session.get(Category, category_id) is None:
            raise FilterError(
                "category",
                _("Diese Kategorie gibt es nicht. Bitte wählen Sie eine aus der Liste."),
            )
        args["category"] = category_id
    status = request.args.get("status", "")
    if status:
        if status not in ReportStatus._value2member_map_:
            raise FilterError(
                "status",
                _(
                    "Diesen Status gibt es nicht. Möglich sind: %(statuses)s.",
                    statuses=", ".join(str(s.label) for s in ReportStatus),
                ),
            )
        args["status"] = status
    if "bbox" in request.args:
        bbox = parse_bbox(request.args["bbox"])
        if bbox is None:
            raise FilterError(
                "bbox",
                _("Der Kartenausschnitt ist ungültig (erwartet: West,Süd,Ost,Nord in Grad)."),
            )
        args["bbox"] = request.args["bbox"]
    return args


def filter_error(exc: FilterError):
    """400 for an unknown filter value: a German page, or JSON naming the parameter."""
    if wants_json():
        body = {"code": 400, "parameter": exc.field, "message": exc.message}
        return jsonify(error=body), 400
    return render_error(400, exc.message)


def filtered(stmt, args: dict):
    """A statement of reports narrowed to the filters of ``filter_args``."""
    if "category" in args:
        stmt = stmt.where(Report.category_id == args["category"])
    if "status" in args:
        stmt = stmt.where(Report.status == args["status"])
    if "bbox" in args:
        west, south, east, north = parse_bbox(args["bbox"])
        stmt = stmt.where(Report.lat.between(south, north), Report.lon.between(west, east))
    return stmt


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


@bp.route("/karte.json")
def geojson():
    """Pins of public reports inside the visible box (``bbox=west,south,east,north``),
    widened to whole cells of its cluster grid (``mangel.mapdata.map_view``)."""
    try:
        args = filter_args()
    except FilterError as exc:
        return filter_error(exc)
    if "bbox" not in args:
        return filter_error(FilterError("bbox", _("Bitte geben Sie einen Kartenausschnitt an.")))
    # The same for every visitor; still, only visitors without a session share kept answers.
    body = map_answer(
        parse_bbox(args["bbox"]), args.get("category"), args.get("status"), keep=without_session()
    )
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


def render_report(
    report: Report, *, form: SupportForm | None = None, private: bool = False, **extra
):
    """The report page: public facts, released text and photos, history, support."""
    return render_template(
        "mangel/report.html",
        report=report,
        form=form or SupportForm(),
        support_count=services.support_counts([report.id]).get(report.id, 0),
        private=private,
        map_config=map_config(),
        **extra,
    )


@bp.route("/<int:report_id>")
def report_page(report_id: int):
    """One public report with its status history, staff notes and support button."""
    report = services.public_report(report_id)
    if report is None:
        if services.withdrawn_report(report_id) is not None:
            return render_template("mangel/withdrawn.html", report_id=report_id), 410
        abort(404)
    return render_report(report)


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
    try:
        args = filter_args()
    except FilterError as exc:
        return filter_error(exc)
    category_id = args.get("category")
    reports = db.session.scalars(
        filtered(services.public_reports(), args)
        .options(selectinload(Report.category).joinedload(Category.parent))
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
