"""Open311 GeoReport v2 at ``/open311/v2/``: discovery, services, service requests.

Every endpoint answers in XML or JSON by its extension.  Services are the reportable leaf
categories, service attributes their extra questions.  Only confirmed (public) reports are
listed, and never with the reporter's name, e-mail address or phone number; a description
or photo appears only once staff released it.  Errors come as the spec's ``errors`` list;
their descriptions are in English, the language of the spec and of the clients' developers.
Posting a report lives in ``mangel.open311.submit``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from sqlalchemy import Select, false, select, true
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from lotse.cache import cached
from lotse.extensions import db
from lotse.models import Department, utcnow
from lotse.urls import public_url, public_url_filler
from mangel import services
from mangel.models import (
    OPEN_STATUSES,
    Category,
    CategoryQuestion,
    Report,
    ReportPhoto,
    ReportStatus,
    StatusChange,
    readable_answers,
)
from mangel.open311.format import (
    CONTENT_TYPES,
    LOCAL_TZ,
    error_response,
    render,
    respond,
    w3c,
)

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
# ``/open311/`` itself, one level up: people type it and land on the developer page.
root_bp = Blueprint("open311_root", __name__)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-23T00:00:00+01:00"
DEFAULT_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
MAX_PAGE = 100_000
FORMAT = "<any(xml, json):fmt>"
DATATYPE_DESCRIPTIONS = {
    "string": "Short text, up to 200 characters",
    "number": "A number, e.g. 12 or 3.5",
    "datetime": "A date, YYYY-MM-DD (a W3C datetime is accepted, its date is kept)",
    "text": "Longer text, up to 2000 characters",
    "singlevaluelist": "One key of values",
    "multivaluelist": "One or more keys of values (repeat attribute[code][])",
}
GENERIC_ERRORS = {
    400: "Bad request",
    403: "Forbidden",
    404: "Resource not found",
    405: "Method not allowed",
    413: "Request too large",
    429: "Too many requests for this API key, try again later",
}


class Open311Error(Exception):
    """An error answered in the spec's format, with its HTTP status."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


def _request_format() -> str:
    fmt = (request.view_args or {}).get("fmt") or request.path.rpartition(".")[2]
    return fmt if fmt in ("xml", "json") else "xml"


@bp.errorhandler(Open311Error)
def open311_error(exc: Open311Error):
    return error_response(_request_format(), exc.status, exc.description)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    status = exc.code if exc.code in GENERIC_ERRORS else 400
    response = error_response(_request_format(), status, GENERIC_ERRORS[status])
    if status == 429:
        response.headers.update({k: v for k, v in exc.get_headers() if k == "Retry-After"})
    return response


@bp.errorhandler(Exception)
def unexpected_error(exc: Exception):
    if isinstance(exc, HTTPException):
        return http_error(exc)
    current_app.logger.exception("unhandled error on %s", request.path)
    return error_response(_request_format(), 500, "Internal error")


def arg(name: str) -> str | None:
    """A query or form parameter; empty ones count as absent, as the spec says."""
    value = request.values.get(name, "").strip()
    return value or None


def _list_arg(name: str) -> list[str]:
    return [part.strip() for part in (arg(name) or "").split(",") if part.strip()]


def _int_list(name: str) -> list[int]:
    values = _list_arg(name)
    if len(values) > MAX_RESULTS or not all(v.isdigit() and len(v) <= 18 for v in values):
        raise Open311Error(400, f"{name} must be a comma-separated list of numbers")
    return [int(v) for v in values]


def _date_arg(name: str) -> datetime | None:
    value = arg(name)
    if value is None:
        return None
    # An unencoded "+" of the offset arrives as a space: read it as the client meant it.
    value = value.replace(" ", "+")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C datetime") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)


def _positive_int(name: str, default: int) -> int:
    value = arg(name)
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise Open311Error(400, f"{name} must be a number from 1 to {MAX_PAGE}")
    return int(value)


# --- discovery and services ------------------------------------------------------------


@bp.route(f"/discovery.{FORMAT}")
def discovery(fmt: str):
    """Where this endpoint is and what it speaks, for clients that configure themselves."""
    data = {
        "changeset": CHANGESET,
        "contact": current_app.config.get("OPEN311_CONTACT")
        or public_url("open311.developer_page"),
        "key_service": public_url("open311.developer_page"),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": public_url("open311.developer_page").rstrip("/"),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", data)


def _service(category: Category) -> dict:
    return {
        "service_code": str(category.id),
        "service_name": category.name,
        "description": category.description,
        "metadata": bool(category.questions),
        "type": "realtime",
        "keywords": "",
        "group": category.parent.name,
    }


@bp.route(f"/services.{FORMAT}")
def service_list(fmt: str):
    """Every category a report can be filed under."""
    tree = services.category_tree(selectinload(Category.questions))
    leaves = [leaf for _main, group in tree for leaf in group]
    return respond(fmt, "services", [_service(c) for c in leaves])


def service_or_404(code: str | None) -> Category:
    """The reportable category behind a service_code, or a 404 in the spec's format."""
    valid = code is not None and code.isdigit() and len(code) <= 18
    category = services.reportable_category(int(code)) if valid else None
    if category is None:
        raise Open311Error(404, f"service_code {code} not found")
    return category


@bp.route(f"/services/<code>.{FORMAT}")
def service_definition(code: str, fmt: str):
    """The extra questions of a category as service attributes."""
    category = service_or_404(code)
    attributes = [
        {
            "variable": True,
            "code": question.code,
            "datatype": question.datatype,
            "required": question.required,
            "datatype_description": DATATYPE_DESCRIPTIONS[question.datatype],
            "order": order,
            "description": question.label,
            "values": [{"key": o["key"], "name": o["name"]} for o in question.options or []],
        }
        for order, question in enumerate(category.questions, start=1)
    ]
    data = {"service_code": str(category.id), "attributes": attributes}
    return respond(fmt, "service_definition", data)


# --- service requests ------------------------------------------------------------------


OPEN311_STATUS = {s.value: s.open311 for s in ReportStatus}
# What a service request shows, read as plain rows: no personal data, no ORM objects.
REQUEST_COLUMNS = (
    Report.id,
    Report.status,
    Report.category_id,
    Category.name.label("service_name"),
    Department.name.label("agency"),
    Report.description,
    Report.description_released,
    Report.street,
    Report.lat,
    Report.lon,
    Report.created_at,
    Report.updated_at,
)


def request_data(row, notes: list[dict], photos: list[str], extensions: dict | None) -> dict:
    """One report as a service request; ``extensions`` given adds the extensions block."""
    data = {
        "service_request_id": str(row.id),
        "status": OPEN311_STATUS[row.status],
        "status_notes": notes[-1]["text"] if notes else None,
        "service_name": row.service_name,
        "service_code": str(row.category_id),
        "description": row.description if row.description_released else None,
        "agency_responsible": row.agency,
        "service_notice": None,
        "requested_datetime": w3c(row.created_at),
        "updated_datetime": w3c(row.updated_at),
        "expected_datetime": None,
        "address": row.street or None,
        "address_id": None,
        "zipcode": None,
        "lat": row.lat,
        "long": row.lon,
        "media_url": photos[0] if photos else None,
    }
    if extensions is not None:
        data["extended_attributes"] = {
            "detailed_status": row.status,
            "detailed_status_label": extensions["label"],
            "notes": notes,
            "support_count": extensions["support_count"],
            "answers": extensions["answers"],
            "photos": photos,
        }
    return data


def service_requests(page: Select, extensions: bool) -> list[dict]:
    """The service requests of a page of reports, a select of ``REQUEST_COLUMNS``.

    Notes, photos and (with extensions) supports and answers come in one statement each,
    for the page's ids as a subquery: a fixed number of statements however long the page,
    and no thousand bound parameters for the driver to take apart.
    """
    if extensions:
        page = page.add_columns(Report.answers)
    rows = db.session.execute(page).all()
    if not rows:
        return []
    ids = select(page.subquery().c.id)
    notes: dict[int, list[dict]] = defaultdict(list)
    for change in db.session.execute(
        select(
            StatusChange.report_id,
            StatusChange.status,
            StatusChange.public_note,
            StatusChange.created_at,
        )
        .where(StatusChange.report_id.in_(ids), StatusChange.public_note != "")
        .order_by(StatusChange.id)
    ):
        notes[change.report_id].append(
            {
                "datetime": w3c(change.created_at),
                "status": change.status,
                "text": change.public_note,
            }
        )
    photo_url = public_url_filler("mangel.photo", "name")
    photos: dict[int, list[str]] = defaultdict(list)
    for report_id, file_name in db.session.execute(
        select(ReportPhoto.report_id, ReportPhoto.file_name)
        .join(Report, Report.id == ReportPhoto.report_id)
        .where(
            ReportPhoto.report_id.in_(ids),
            Report.photos_released == true(),
            ReportPhoto.held == false(),
        )
        .order_by(ReportPhoto.report_id, ReportPhoto.position, ReportPhoto.id)
    ):
        photos[report_id].append(photo_url(file_name))
    if not extensions:
        return [request_data(row, notes[row.id], photos[row.id], None) for row in rows]
    counts = services.support_counts(ids)
    questions: dict[int, list[CategoryQuestion]] = defaultdict(list)
    for question in db.session.scalars(
        select(CategoryQuestion)
        .where(CategoryQuestion.category_id.in_({row.category_id for row in rows}))
        .order_by(CategoryQuestion.position, CategoryQuestion.id)
    ):
        questions[question.category_id].append(question)
    labels = {s.value: str(s.label) for s in ReportStatus}
    return [
        request_data(
            row,
            notes[row.id],
            photos[row.id],
            {
                "label": labels[row.status],
                "support_count": counts.get(row.id, 0),
                # Free-text answers may name people: public with the released description only.
                "answers": [
                    {"question": question, "value": answer}
                    for question, answer in readable_answers(
                        row.answers, questions[row.category_id]
                    )
                ]
                if row.description_released
                else [],
            },
        )
        for row in rows
    ]


def _public_requests() -> Select:
    """``REQUEST_COLUMNS`` of the reports the public may see."""
    return (
        select(*REQUEST_COLUMNS)
        .join_from(Report, Category, Report.category_id == Category.id)
        .outerjoin(Department, Report.department_id == Department.id)
        .where(services.public_condition())
    )


def _search_statement() -> Select:
    """The filters of GET requests; a list of ids overrides every other filter."""
    stmt = _public_requests()
    ids = _int_list("service_request_id")
    if ids:
        return stmt.where(Report.id.in_(ids))
    codes = _int_list("service_code")
    if codes:
        stmt = stmt.where(Report.category_id.in_(codes))
    statuses = _list_arg("status")
    if not set(statuses) <= {"open", "closed"}:
        raise Open311Error(400, "status must be open, closed or both")
    if len(set(statuses)) == 1:
        open_values = [s.value for s in OPEN_STATUSES]
        column = Report.status
        stmt = stmt.where(
            column.in_(open_values) if statuses[0] == "open" else column.not_in(open_values)
        )
    start, end = _date_arg("start_date"), _date_arg("end_date")
    if start is None and end is None:
        start = utcnow() - DEFAULT_WINDOW
    if start is not None:
        stmt = stmt.where(Report.created_at >= start)
    if end is not None:
        stmt = stmt.where(Report.created_at <= end)
    return stmt


@bp.route(f"/requests.{FORMAT}", methods=["GET"])
def request_list(fmt: str):
    """Public reports, newest first: last 90 days unless dated, at most 1000 per page."""
    page = _positive_int("page", 1)
    page_size = min(_positive_int("page_size", MAX_RESULTS), MAX_RESULTS)
    stmt = (
        _search_statement()
        .order_by(Report.created_at.desc(), Report.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    body = cached(
        _list_cache_key(fmt),
        current_app.config["OPEN311_CACHE_SECONDS"],
        lambda: render(
            fmt, "service_requests", service_requests(stmt, arg("extensions") == "true")
        ),
    )
    return Response(body, content_type=CONTENT_TYPES[fmt])


def _list_cache_key(fmt: str) -> str:
    """The list's query as it matters for the answer: clients that differ only in their API
    key, in the order or in empty parameters share the kept answer."""
    names = ("service_request_id", "service_code", "status", "start_date", "end_date")
    values = [arg(name) or "" for name in (*names, "page", "page_size", "extensions")]
    return f"open311:requests.{fmt}:{json.dumps(values)}"


@bp.route(f"/requests/<report_id>.{FORMAT}")
def request_detail(report_id: str, fmt: str):
    """One public report, as a list of one, as the spec has it."""
    valid = report_id.isdigit() and len(report_id) <= 18
    data = []
    if valid:
        stmt = _public_requests().where(Report.id == int(report_id))
        data = service_requests(stmt, arg("extensions") == "true")
    if not data:
        raise Open311Error(404, f"service_request_id {report_id} not found")
    return respond(fmt, "service_requests", data)


@bp.route("/<path:unknown>")
def unknown_endpoint(unknown: str):
    """Any other address below the API: a 404 in the spec's format, not the site's."""
    raise Open311Error(404, f"endpoint {unknown} not found")


@bp.route("/")
def developer_page():
    """A short page for developers: endpoints, formats, keys, extensions."""
    return render_template(
        "mangel/open311/developer.html",
        datatypes=DATATYPE_DESCRIPTIONS,
        max_results=MAX_RESULTS,
        window_days=DEFAULT_WINDOW.days,
    )


@root_bp.route("/open311/")
def root():
    """The API's bare address leads to its developer page."""
    return redirect(url_for("open311.developer_page"), 301)
