"""Core pages: start page, legal pages with accessibility feedback, language, health, staff home."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import text

from lotse.auth import staff_required
from lotse.extensions import csrf, db, limiter
from lotse.feedback import FeedbackForm
from lotse.hooks import staff_links
from lotse.queue import queue_status
from lotse.requestcost import same_for_every_visitor

bp = Blueprint("core", __name__)

LEGAL_TITLES = {
    "impressum": _l("Impressum"),
    "datenschutz": _l("Datenschutzerklärung"),
    "barrierefreiheit": _l("Erklärung zur Barrierefreiheit"),
}


@bp.route("/")
@same_for_every_visitor
def index():
    """Start page: both services, one click away."""
    return render_template("index.html")


@bp.route("/leichte-sprache")
def easy_language():
    """Both services explained in Leichter Sprache: German, whatever language the UI speaks."""
    with force_locale("de"):
        return render_template("leichte_sprache.html")


def render_legal(page: str, template: str = "legal.html", **context):
    content = current_app.config["LEGAL_PAGES"].get(page)
    if content is None:
        abort(404)
    return render_template(
        template,
        page=page,
        title=LEGAL_TITLES[page],
        content=Markup(content),  # noqa: S704 - trusted text from the town's configuration
        **context,
    )


@bp.route("/<any(impressum, datenschutz):page>")
def legal(page: str):
    """Impressum and Datenschutz, with the town's own text."""
    return render_legal(page)


@bp.route("/barrierefreiheit", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["ACCESSIBILITY_FEEDBACK_LIMIT"], methods=["POST"])
def accessibility():
    """The town's accessibility statement, and a form to tell the town about a barrier."""
    form = FeedbackForm()
    if form.validate_on_submit():
        if not form.is_spam():
            form.queue_mail()
            db.session.commit()
        flash(_("Vielen Dank! Ihre Rückmeldung ist angekommen."), "success")
        return redirect(url_for("core.accessibility"))
    if not form.is_submitted():
        form.page_url.data = _referring_page()
    return render_template(
        "accessibility.html",
        title=LEGAL_TITLES["barrierefreiheit"],
        statement=accessibility_statement(),
        form=form,
    )


STATUS_WORDING = {
    "vollständig": "Dieses Angebot ist vollständig mit § 3 Absätze 1 bis 4 und § 4 der BITV 2.0 "
    "vereinbar.",
    "teilweise": "Dieses Angebot ist wegen der folgenden Unvereinbarkeiten teilweise mit § 3 "
    "Absätze 1 bis 4 und § 4 der BITV 2.0 vereinbar.",
    "nicht": "Dieses Angebot ist nicht mit § 3 Absätze 1 bis 4 und § 4 der BITV 2.0 vereinbar.",
}


def accessibility_statement() -> dict:
    """The statement's parts from the town's settings, with what the app knows is missing.

    A missing DGS video is a gap of its own; with any gap listed the site cannot claim to be
    "vollständig vereinbar".
    """
    settings = dict(current_app.config["ACCESSIBILITY_STATEMENT"])
    gaps = list(settings.get("gaps", []))
    if not current_app.config["DGS_VIDEO"]:
        gaps.append(
            {
                "what": "Es gibt noch keine Informationen in Deutscher Gebärdensprache "
                "(BITV 2.0 § 4).",
                "why": "Das Video wird noch erstellt.",
                "alternative": "Die Dienste sind in Leichter Sprache erklärt; das Bürgerbüro "
                "vermittelt auf Wunsch eine Gebärdensprachdolmetscherin oder einen "
                "Gebärdensprachdolmetscher.",
            }
        )
    status = settings.get("status", "teilweise")
    if status not in STATUS_WORDING:
        status = "teilweise"
    if gaps and status == "vollständig":
        status = "teilweise"
    settings.update(gaps=gaps, status=status, wording=STATUS_WORDING[status])
    for key in ("prepared", "reviewed"):
        settings[key] = _iso_date(settings.get(key))
    return settings


def _iso_date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


@bp.route("/gebaerdensprache")
def sign_language():
    """Both services explained in Deutscher Gebärdensprache (DGS), once the town has a video."""
    return render_template(
        "sign_language.html",
        video=_media_url(current_app.config["DGS_VIDEO"]),
        captions=_media_url(current_app.config["DGS_CAPTIONS"]),
    )


def _media_url(setting: str | None) -> str | None:
    if not setting:
        return None
    if setting.startswith(("https://", "http://")):
        return setting
    return url_for("core.sign_language_media", name=setting)


@bp.route("/gebaerdensprache/<path:name>")
def sign_language_media(name: str):
    """The DGS video and its captions from the instance folder (only the configured files)."""
    config = current_app.config
    if name not in {config["DGS_VIDEO"], config["DGS_CAPTIONS"]}:
        abort(404)
    return send_from_directory(current_app.instance_path, name)


def _referring_page() -> str | None:
    """The page of this site the visitor came from: most likely where the barrier is."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or referrer.path == request.path:
        return None
    return referrer.path


@bp.route("/sprache", methods=["POST"])
@csrf.exempt
def set_language():
    """Remember the visitor's language for a year and return to where they were.

    Without a CSRF token: a forged switch only changes the language, and a token in every
    page's header would give every visitor a session cookie and make no page cacheable.
    """
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("core.index")
    response = make_response(redirect(target))
    response.set_cookie(
        "lang",
        lang,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )
    return response


@bp.route("/healthz")
def healthz():
    """Machine-readable health for load balancers: database and queue."""
    database = {"ok": True}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        database = {"ok": False, "error": type(exc).__name__}
        db.session.rollback()
    queue = queue_status(current_app)
    healthy = database["ok"] and queue["ok"]
    body = {"status": "ok" if healthy else "error", "database": database, "queue": queue}
    return jsonify(body), 200 if healthy else 503


@bp.route("/verwaltung/")
@staff_required
def staff_home():
    """The staff start page: the tools this person's roles open."""
    return render_template("staff_home.html", user=current_user)


@bp.app_context_processor
def template_globals():
    from flask_babel import get_locale

    return {"current_locale": lambda: str(get_locale() or "de"), "staff_links": staff_links}
