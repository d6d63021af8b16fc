"""Friendly German error pages, and JSON errors for API clients."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from lotse.hooks import error_renderer

MESSAGES = {
    400: (
        _l("Anfrage nicht verständlich"),
        _l(
            "Die Anfrage konnte nicht verarbeitet werden. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal."
        ),
    ),
    401: (_l("Anmeldung nötig"), _l("Bitte melden Sie sich an.")),
    403: (_l("Kein Zugriff"), _l("Sie haben keine Berechtigung für diese Seite.")),
    404: (
        _l("Seite nicht gefunden"),
        _l(
            "Diese Seite gibt es nicht oder nicht mehr. Prüfen Sie die Adresse oder beginnen Sie auf der Startseite."
        ),
    ),
    405: (_l("Nicht erlaubt"), _l("Diese Aktion ist hier nicht möglich.")),
    409: (
        _l("Schon vergeben"),
        _l("Das hat gerade jemand anderes getan. Bitte laden Sie die Seite neu."),
    ),
    413: (
        _l("Zu groß"),
        _l(
            "Die gesendeten Daten sind zu groß. Bitte verkleinern Sie Fotos oder senden Sie weniger Dateien."
        ),
    ),
    429: (
        _l("Zu viele Anfragen"),
        _l(
            "Sie haben zu viele Anfragen in kurzer Zeit gesendet. Bitte warten Sie einige Minuten und versuchen Sie es dann erneut."
        ),
    ),
    500: (
        _l("Interner Fehler"),
        _l(
            "Hier ist etwas schiefgegangen. Wir wurden benachrichtigt. Bitte versuchen Sie es später noch einmal."
        ),
    ),
    503: (
        _l("Vorübergehend nicht verfügbar"),
        _l(
            "Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen Minuten erneut."
        ),
    ),
}

API_PREFIXES = ("/api/", "/open311/")


def wants_json() -> bool:
    if request.path.startswith(API_PREFIXES) or request.path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(code: int, description: str | None = None):
    title, text = MESSAGES.get(code, MESSAGES[500])
    if wants_json():
        return jsonify(error={"code": code, "title": str(title), "message": str(text)}), code
    if code == 400 and description:
        text = description
    return render_template("errors/error.html", code=code, title=title, text=text), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        from flask_babel import gettext as _

        return render_error(
            400,
            _(
                "Das Formular ist abgelaufen oder unvollständig. Bitte laden Sie die Seite neu "
                "und senden Sie es noch einmal."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        api_renderer = error_renderer(request.path)
        if api_renderer is not None:
            return api_renderer(exc)
        response = render_error(exc.code)
        if exc.code == 429 or exc.code == 405:
            body, code = response
            resp = app.make_response((body, code))
            for key, value in exc.get_headers():
                if key.lower() in ("retry-after", "allow"):
                    resp.headers[key] = value
            return resp
        return response

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            # The database dropped a pooled connection (restart, failover): SQLAlchemy has
            # discarded the pool, so asking again a moment later succeeds.
            app.logger.warning("database connection lost on %s, pool renewed", request.path)
            response = app.make_response(render_error(503))
            response.headers["Retry-After"] = "1"
            return response
        app.logger.exception("unhandled error on %s", request.path)
        return render_error(500)
