"""The booking API at ``/api/v1/``, described by the OpenAPI 3.1 document ``openapi.json``.

Reading (halls and rooms, free and busy times, the public plan) needs no key, is JSON,
cacheable (ETag, ``Cache-Control``, 304) and open to every web page (CORS).  Partner
systems request bookings with an API key scoped to halls (``buchung.api.keys``).  Every
error is ``{"error": {"code": "...", "status": 400, "message": "..."}}``; the messages are
in English, the language of the clients' developers, except ``details``, which carry the
booking rules' German sentences for the partner's users.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

bp = Blueprint("buchung_api", __name__, url_prefix="/api/v1")

HTTP_CODES = {
    400: ("bad_request", "The request is not understood."),
    401: ("unauthorized", "An API key is needed: send it as 'Authorization: Bearer <key>'."),
    403: ("forbidden", "This API key may not do this."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This method is not allowed here."),
    406: ("not_acceptable", "This API answers in JSON only."),
    409: ("conflict", "The time is not free."),
    413: ("too_large", "The request is too large."),
    415: ("unsupported_media_type", "Send the request body as application/json."),
    422: ("unprocessable", "The request breaks the booking rules."),
    429: ("too_many_requests", "Too many requests for this API key; try again later."),
}
READ_METHODS = "GET, HEAD, OPTIONS"


class ApiError(Exception):
    """An error answered as ``{"error": {...}}`` with its HTTP status."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.alternatives: list | None = None  # free times offered instead (409)


def error_response(
    status: int, code: str, message: str, details: list | None = None, alternatives=None
):
    body = {"error": {"code": code, "status": status, "message": message}}
    if details:
        body["error"]["details"] = details
    if alternatives is not None:
        body["error"]["alternatives"] = alternatives
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ApiError)
def api_error(exc: ApiError):
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.alternatives)


def _no_route(exc: HTTPException) -> bool:
    """A 405 that is really a 404: werkzeug checks the method before the converters, so an
    id beyond the database's range (no route at all) reads as a wrong method."""
    if not isinstance(exc, MethodNotAllowed) or not exc.valid_methods:
        return False
    try:
        current_app.url_map.bind("api").match(request.path, method=exc.valid_methods[0])
    except HTTPException:
        return True
    return False


def http_error(exc: HTTPException):
    """Werkzeug's errors (404 of unknown paths, 405, 413, 429) in the API's format."""
    status = exc.code if exc.code in HTTP_CODES else 400
    if _no_route(exc):
        return error_response(404, *HTTP_CODES[404])
    code, message = HTTP_CODES[status]
    response = error_response(status, code, message)
    for key, value in exc.get_headers():
        if key.lower() in ("retry-after", "allow"):
            response.headers[key] = value
    return response


bp.register_error_handler(HTTPException, http_error)


def cached_json(payload, max_age: int) -> Response:
    """JSON with a strong ETag of its bytes; a matching ``If-None-Match`` gets 304."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.vary.add("Accept-Language")
    return response.make_conditional(request)


@bp.after_request
def cors(response: Response) -> Response:
    """Any web page may read the public API (no cookies involved); writes need a key."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = READ_METHODS
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match, Accept-Language"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def init_app(app: Flask) -> None:
    """Register the API, its admin page for keys and its JSON errors for unrouted paths."""
    from buchung.api import keys, openapi, read, write  # noqa: F401 - routes
    from lotse.extensions import csrf
    from lotse.hooks import register_error_renderer

    csrf.exempt(bp)  # keys, not cookies: no cross-site request can borrow them
    app.register_blueprint(bp)
    app.register_blueprint(keys.admin_bp)
    register_error_renderer(app, bp.url_prefix + "/", http_error)
