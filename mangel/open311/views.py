"""Open311 GeoReport v2 at ``/open311/v2/``: discovery, services, service requests.

Every endpoint answers in XML or JSON by its extension.  Services are the reportable leaf
categories, service attributes their extra questions.  Only confirmed (public) reports are
listed, and never with the reporter's name, e-mail address or phone number; a description
or photo appears only once staff released it.  Errors come as the spec's ``errors`` list;
their descriptions are in English, the language of the spec and of the clients' developers.
Posting a report lives in ``mangel.open311.submit``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from sqlalchemy.orm import joinedload, load_only, selectinload
from werkzeug.exceptions import HTTPException

from lotse.extensions import db
from lotse.models import utcnow
from lotse.urls import public_url
from mangel import services
from mangel.models import OPEN_STATUSES, Category, Report, ReportPhoto, StatusChange
from mangel.open311.format import LOCAL_TZ, error_response, respond

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
    leaves = [leaf for _main, group in services.category_tree() for leaf in group]
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


def _photo_urls(report: Report) -> list[str]:
    return [public_url("mangel.photo", name=p.file_name) for p in report.public_photos]


def request_data(report: Report, support_count: int | None = None) -> dict:
    """One report as a service request; ``support_count`` given adds the extensions block."""
    notes = [change for change in report.history if change.public_note]
    photos = _photo_urls(report)
    data = {
        "service_request_id": str(report.id),
        "status": report.status_enum.open311,
        "status_notes": notes[-1].public_note if notes else None,
        "service_name": report.category.name,
        "service_code": str(report.category_id),
        "description": report.description if report.description_released else None,
        "agency_responsible": report.department.name if report.department else None,
        "service_notice": None,
        "requested_datetime": report.created_at,
        "updated_datetime": report.updated_at,
        "expected_datetime": None,
        "address": report.street or None,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lon,
        "media_url": photos[0] if photos else None,
    }
    if support_count is not None:
        data["extended_attributes"] = {
            "detailed_status": report.status,
            "detailed_status_label": str(report.status_enum.label),
            "notes": [
                {"datetime": c.created_at, "status": c.status, "text": c.public_note} for c in notes
            ],
            "support_count": support_count,
            # Free-text answers may name people: public with the released description only.
            "answers": [
                {"question": question, "value": answer}
                for question, answer in report.readable_answers()
            ]
            if report.description_released
            else [],
            "photos": photos,
        }
    return data


def _requests_response(fmt: str, reports: list[Report]):
    extensions = arg("extensions") == "true"
    counts = services.support_counts(r.id for r in reports) if extensions else {}
    data = [request_data(r, counts.get(r.id, 0) if extensions else None) for r in reports]
    return respond(fmt, "service_requests", data)


def _search_statement():
    """The filters of GET requests; a list of ids overrides every other filter."""
    stmt = services.public_reports()
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


# What a service request shows, loaded for a whole page at once: a fixed number of
# statements however many reports the page holds, and no personal data read at all.
REQUEST_LOAD = (
    load_only(
        Report.id,
        Report.status,
        Report.category_id,
        Report.department_id,
        Report.description,
        Report.description_released,
        Report.photos_released,
        Report.street,
        Report.lat,
        Report.lon,
        Report.created_at,
        Report.updated_at,
    ),
    joinedload(Report.category).load_only(Category.id, Category.name),
    joinedload(Report.department),
    selectinload(Report.history).load_only(
        StatusChange.status, StatusChange.public_note, StatusChange.created_at
    ),
    selectinload(Report.photos).load_only(
        ReportPhoto.file_name, ReportPhoto.position, ReportPhoto.held
    ),
)


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
        .options(*REQUEST_LOAD)
    )
    return _requests_response(fmt, list(db.session.scalars(stmt)))


@bp.route(f"/requests/<report_id>.{FORMAT}")
def request_detail(report_id: str, fmt: str):
    """One public report, as a list of one, as the spec has it."""
    valid = report_id.isdigit() and len(report_id) <= 18
    report = services.public_report(int(report_id)) if valid else None
    if report is None:
        raise Open311Error(404, f"service_request_id {report_id} not found")
    return _requests_response(fmt, [report])


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
