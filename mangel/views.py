"""Public pages of the Mängelmelder: map, list, report page, GeoJSON, feed, photos.

Nothing here ever shows a reporter's name, e-mail address or phone number.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    get_template_attribute,
    jsonify,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from lotse.auth import in_department_scope
from lotse.cache import cached_for
from lotse.errors import render_error, wants_json
from lotse.extensions import db, limiter
from lotse.formatting import date_formatter
from lotse.geo import town_bounds
from lotse.inputs import DB_INT_MAX
from lotse.requestcost import _without_session
from lotse.urls import public_url, url_filler
from mangel import PUBLIC_GENERATION, services
from mangel.forms import SupportForm
from mangel.mapdata import map_geojson, parse_bbox
from mangel.models import Category, Report, ReportPhoto, ReportStatus, place_label
from mangel.photos import photo_path
from mangel.places import search_addresses

bp = Blueprint("mangel", __name__, url_prefix="/maengel")

FEED_SIZE = 50
MAX_PAGE = 10_000  # deeper pages read too far into the index; the filters narrow down


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() else None


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


def marker_names(categories: list[Category], statuses: dict[ReportStatus, ShownStatus]) -> dict:
    """How the overview map names its markers: "Meldung Nr. 32: Schlagloch, in Bearbeitung"."""
    return {
        "report": _("Meldung Nr. %(id)s: %(category)s, %(status)s"),
        "reported": _("gemeldet am %(date)s"),
        "cluster": _("%(count)s Meldungen – aktivieren zum Vergrößern"),
        "categories": {c.id: c.name for c in categories},
        "statuses": {s.value: s.label for s in statuses.values()},
    }


@dataclass(frozen=True)
class ShownStatus:
    """A status as the list, the legend and the filter show it, written once per request."""

    value: str
    label: str
    is_open: bool
    symbol: Markup  # the map's pin symbol, as in the legend
    badge: Markup


def shown_statuses() -> dict[ReportStatus, ShownStatus]:
    """Every status's label, symbol and badge in the visitor's language.

    A page names a status in the filter, the legend, the map's markers and on each row:
    translated and drawn once per language and process, not once per mention.  (Again on
    every request while templates reload on change, as when developing.)
    """
    locale = str(get_locale())
    kept = current_app.extensions.setdefault("mangel_statuses", {})
    if locale in kept and not current_app.jinja_env.auto_reload:
        return kept[locale]
    symbol = get_template_attribute("mangel/_macros.html", "status_symbol")
    badge = get_template_attribute("mangel/_macros.html", "status_badge")
    kept[locale] = {
        s: ShownStatus(s.value, str(s.label), s.is_open, symbol(s, 22), badge(s))
        for s in ReportStatus
    }
    return kept[locale]


@dataclass(frozen=True)
class ListedReport:
    """A report as the public list shows it, its link and texts already written."""

    id: int
    url: str
    title: str  # "Nr. 32: Schlagloch"
    status: ShownStatus
    reported: str  # "gemeldet am 3. März 2025"
    place: str
    supports: str  # "2 Unterstützungen", or nothing


class ListPage:
    """One page of a list, with its neighbours but without counting the whole list.

    Counting every public report per view reads the whole table; one row more than the
    page (``rows``, read with ``LIMIT per_page + 1``) tells whether there is a next page.
    """

    def __init__(self, rows: list, page: int, per_page: int):
        self.items = rows[:per_page]
        self.page = page
        self.has_prev = page > 1
        self.has_next = len(rows) > per_page
        self.prev_num = page - 1
        self.next_num = page + 1


LIST_ARGS = frozenset({"category", "status", "page", "teil"})


class _VisitorsOwn(Exception):  # noqa: N818 - not an error: the page is not kept
    """Rendering the page started a session: it is this visitor's, and never kept."""

    def __init__(self, page: bytes):
        super().__init__()
        self.page = page


def _kept_list_key() -> str | None:
    """The key a list page is kept under, or None when it is rendered for this visitor.

    Kept only for visitors without a session (nothing personal on the page) and for the
    queries the page's own links and filter form write: the list's parameters, each once,
    the page number as the pager writes it.  The page quotes its query string (the language
    switch returns to it), so the key is that query string; any other query is rendered,
    and a map area (``bbox``, a new one at every move of the map) is never kept.  Unknown
    filter values are refused while building, and a refusal is not kept.
    """
    query = request.args
    if not LIST_ARGS.issuperset(query) or any(len(v) > 1 for v in query.listvalues()):
        return None
    if query.get("page", "1") != str(_page_number()) or query.get("teil", "liste") != "liste":
        return None
    if not _without_session():
        return None
    return f"list:{get_locale()}:{request.query_string.decode()}"


def _page_number() -> int:
    return min(_int_arg("page") or 1, MAX_PAGE)


@bp.route("/")
def index():
    """Map and list of public reports, filtered by category, status and the map's area.

    Visitors without a session get the page as it was rendered for the same query since
    the last change to public reports (``MANGEL_LIST_CACHE_SECONDS``; 0 = always render).
    """
    key = _kept_list_key()
    seconds = current_app.config["MANGEL_LIST_CACHE_SECONDS"]
    try:
        if key is None or seconds <= 0:
            body = _list_page()
        else:
            body = cached_for(PUBLIC_GENERATION, key, seconds, _kept_list_page)
    except FilterError as exc:
        return filter_error(exc)
    except _VisitorsOwn as own:
        body = own.page
    response = current_app.response_class(body, mimetype="text/html")
    if request.args.get("teil") == "liste":
        # The list below the map, redrawn when the map moves (static/js/mangel.js): always
        # the current one, never kept by the browser or a proxy.
        response.headers["Cache-Control"] = "no-store"
    return response


def _kept_list_page() -> bytes:
    body = _list_page()
    if session.modified:
        raise _VisitorsOwn(body)
    return body


def _list_page() -> bytes:
    """The list page (or only its list, ``?teil=liste``) for the query's filters and page."""
    args = filter_args()
    page_number, per_page = _page_number(), current_app.config["MANGEL_PAGE_SIZE"]
    newest_first = (Report.created_at.desc(), Report.id.desc())
    # Only the page's ids walk the index, which holds them (a deep page passes thousands
    # of entries without reading their rows); then the page's own rows are read.
    ids = (
        filtered(select(Report.id).where(services.public_condition()), args)
        .order_by(*newest_first)
        .offset((page_number - 1) * per_page)
        .limit(per_page + 1)
        .subquery()
    )
    columns = (Report.id, Report.category_id, Report.status, Report.street, Report.created_at)
    rows = db.session.execute(
        select(*columns, Report.address_label)
        .join(ids, ids.c.id == Report.id)
        .order_by(*newest_first)
    ).all()
    page = ListPage(rows, page_number, per_page)
    # All categories at once: the leaves' full names need their parents, the map all names.
    all_categories = db.session.scalars(select(Category)).all()
    statuses = shown_statuses()
    page.items = listed_reports(page.items, {c.id: c.name for c in all_categories}, statuses)
    context = {"page": page, "filter_args": args}
    if request.args.get("teil") == "liste":
        return render_template("mangel/_report_list.html", **context).encode()
    return render_template(
        "mangel/index.html",
        categories=sorted(
            (c for c in all_categories if c.parent_id is not None), key=lambda c: c.name
        ),
        statuses=list(statuses.values()),
        category_id=args.get("category"),
        status=args.get("status"),
        map_config=map_config(),
        marker_names=marker_names(all_categories, statuses),
        map_args={k: v for k, v in args.items() if k != "bbox"},
        **context,
    ).encode()


def listed_reports(
    rows, category_names: dict[int, str], statuses: dict[ReportStatus, ShownStatus]
) -> list[ListedReport]:
    """A page's rows as the list shows them: links, texts and support counts written once."""
    report_url = url_filler(url_for("mangel.report_page", report_id=DB_INT_MAX), DB_INT_MAX)
    reported_on = date_formatter("medium")
    number, reported, near = _("Nr. %(id)d"), _("gemeldet am %(date)s"), _("nahe %(street)s")
    supports = services.support_counts(row.id for row in rows)
    return [
        ListedReport(
            id=row.id,
            url=report_url(row.id),
            title=f"{number % {'id': row.id}}: {category_names[row.category_id]}",
            status=statuses[ReportStatus(row.status)],
            reported=reported % {"date": reported_on(row.created_at)},
            place=place_label(row.address_label, row.street, near),
            supports=_supporters(supports.get(row.id, 0)),
        )
        for row in rows
    ]


def _supporters(count: int) -> str:
    if not count:
        return ""
    return ngettext("%(num)d Unterstützung", "%(num)d Unterstützungen", count)


@bp.route("/karte.json")
def geojson():
    """Pins of public reports inside the visible box (``bbox=west,south,east,north``)."""
    try:
        args = filter_args()
    except FilterError as exc:
        return filter_error(exc)
    if "bbox" not in args:
        return filter_error(FilterError("bbox", _("Bitte geben Sie einen Kartenausschnitt an.")))
    body = map_geojson(parse_bbox(args["bbox"]), args.get("category"), args.get("status"))
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
