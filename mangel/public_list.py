"""The public list of reports below the map (``/maengel/``): pages, rows, kept pages.

A visitor without a session gets the page kept for the same query and language until the
next committed change to public reports (``lotse.cache`` generation ``mangel.public``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    current_app,
    get_template_attribute,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from lotse.cache import cached_page_for
from lotse.extensions import db
from lotse.formatting import date_formatter
from lotse.inputs import DB_INT_MAX
from lotse.requestcost import without_session
from lotse.urls import url_filler
from mangel import PUBLIC_GENERATION, services
from mangel.models import Category, Report, ReportStatus, place_label
from mangel.views import (
    FilterError,
    bp,
    filter_args,
    filter_error,
    filtered,
    map_config,
)

MAX_PAGE = 10_000  # deeper pages read too far into the index; the filters narrow down
LIST_ARGS = frozenset({"category", "status", "page", "teil"})


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
    """A status as the list, the legend and the filter show it, written once."""

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
    if not without_session():
        return None
    return f"list:{get_locale()}:{request.query_string.decode()}"


def _page_number() -> int:
    value = request.args.get("page", "")
    number = int(value) if value.isascii() and value.isdigit() else 1
    return min(number or 1, MAX_PAGE)


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
            body = cached_page_for(PUBLIC_GENERATION, key, seconds, _list_page)
    except FilterError as exc:
        return filter_error(exc)
    response = current_app.response_class(body, mimetype="text/html")
    if request.args.get("teil") == "liste":
        # The list below the map, redrawn when the map moves (static/js/mangel.js): always
        # the current one, never kept by the browser or a proxy.
        response.headers["Cache-Control"] = "no-store"
    return response


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
