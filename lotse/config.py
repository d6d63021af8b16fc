"""Configuration chain: defaults → instance/config.py → environment → test mapping.

Every key below may be overridden in ``instance/config.py`` or by an environment
variable ``LOTSE_<KEY>`` (values are parsed as JSON where possible, so
``LOTSE_MAP_ZOOM=14`` is an int).  ``DATABASE_URL``, ``REDIS_URL`` and ``SECRET_KEY``
are read without prefix, as hosting platforms set them.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


class Defaults:
    # --- the town -----------------------------------------------------------------
    TOWN_NAME = "Musterstadt"
    TOWN_STATE = "NW"  # Bundesland code for public holidays (holidays package)
    TOWN_BOUNDARY_FILE = str(PACKAGE_DIR / "data" / "musterstadt.geojson")
    MAP_CENTER = [50.747, 6.491]
    MAP_ZOOM = 14
    TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    TILE_ATTRIBUTION = "© OpenStreetMap-Mitwirkende"
    TIMEZONE = "Europe/Berlin"

    # Content of the legal pages, HTML written by the town (trusted configuration).
    LEGAL_PAGES = {
        "impressum": (
            "<p>Gemeinde Musterstadt<br>Der Bürgermeister<br>Rathausplatz 1<br>"
            "52372 Musterstadt</p><p>Telefon: 02422 0000-0<br>"
            "E-Mail: rathaus@musterstadt.example</p>"
        ),
        "datenschutz": (
            "<p>Wir verarbeiten Ihre Angaben nur, um Ihr Anliegen zu bearbeiten "
            "(Art. 6 Abs. 1 lit. e DSGVO). Name, E-Mail-Adresse und Telefonnummer sehen nur "
            "die zuständigen Mitarbeitenden; sie erscheinen nie öffentlich. Kontaktdaten zu "
            "Meldungen werden nach Abschluss gelöscht.</p>"
            "<p>Verantwortlich: Gemeinde Musterstadt, Rathausplatz 1, 52372 Musterstadt. "
            "Datenschutzbeauftragte: datenschutz@musterstadt.example</p>"
        ),
    }

    # The Erklärung zur Barrierefreiheit (BITV 2.0 § 7), built from these settings by
    # templates/accessibility.html with the wording of the federal model statement.
    # status: "vollständig", "teilweise" or "nicht" (vereinbar). Known gaps: what, why, and
    # the alternative way; a missing DGS video is listed by itself while DGS_VIDEO is unset.
    ACCESSIBILITY_STATEMENT = {
        "status": "teilweise",
        "gaps": [
            {
                "what": "Die Karten (Mängelmelder) sind für blinde Menschen nicht nutzbar.",
                "why": "Eine Karte ist ein Bild; die Lage eines Ortes lässt sich nicht "
                "gleichwertig in Text fassen.",
                "alternative": "Jeder Ort lässt sich als Adresse oder als Koordinaten "
                "eingeben; die Liste unter der Karte enthält dieselben Meldungen.",
            },
        ],
        "prepared": "2026-12-01",  # ISO date the statement was written
        "reviewed": "2026-12-01",  # ISO date of the last review
        "method": "Selbstbewertung: automatische Prüfung aller Seiten mit axe-core "
        "(WCAG 2.1 A und AA) bei 1280 und 320 Pixel Breite und Prüfung von Hand mit "
        "Tastatur und Bildschirmleser.",
        "contact_name": "Gemeinde Musterstadt, Büro des Bürgermeisters",
        "contact_email": "barrierefreiheit@musterstadt.example",
        "contact_phone": "02422 0000-0",
        # The Land's Schlichtungsstelle: each town sets its own (placeholders for the demo).
        "arbitration_name": "Schlichtungsstelle für barrierefreie Informationstechnik des Landes",
        "arbitration_url": "https://schlichtungsstelle.land.example/",
        "arbitration_email": "schlichtungsstelle@land.example",
        "arbitration_phone": "0211 0000-0",
        "arbitration_address": "Landeshaus 1, 40000 Landeshauptstadt",
    }

    # Information in Deutscher Gebärdensprache (BITV 2.0 § 4) about both services: a video
    # URL (https://…) or a file name in the instance folder; optional WebVTT captions likewise.
    DGS_VIDEO: str | None = None
    DGS_CAPTIONS: str | None = None

    # Where the feedback form of the Erklärung zur Barrierefreiheit sends its messages.
    ACCESSIBILITY_FEEDBACK_TO = "barrierefreiheit@musterstadt.example"
    ACCESSIBILITY_FEEDBACK_LIMIT = "5 per 15 minutes"  # per IP address

    # --- infrastructure -------------------------------------------------------------
    SQLALCHEMY_DATABASE_URI: str | None = None  # default: SQLite in the instance folder
    # No ping before each checkout (a SELECT 1 per request): connections are replaced
    # before servers or firewalls drop idle ones, and a dropped one invalidates the pool,
    # so only the request that met it fails (see lotse.errors: 503 with Retry-After).
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_recycle": 600}
    REDIS_URL: str | None = None  # unset: jobs run in-process right after the commit
    QUEUE_NAME = "lotse"
    REDIS_CONNECT_TIMEOUT = 1.0  # seconds; a dead Redis must never hang a request
    REDIS_SOCKET_TIMEOUT = 2.0
    JOB_TIMEOUT = 120
    SWEEP_INTERVAL = 60  # seconds between periodic sweeps (the workers' cron, or see below)
    # Without REDIS_URL the serving process runs the sweep itself (lotse.sweeper); tests
    # and scripts that pass a test config get it only when they ask for it.
    EMBEDDED_SWEEP = True

    # Mail: without MAIL_SERVER mails are written as .eml files to instance/mail/.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_TIMEOUT = 10
    MAIL_FROM = "Lotse Musterstadt <noreply@musterstadt.example>"
    # The outbox (lotse/outbox.py): seconds to wait after the 1st, 2nd, … failed attempt
    # (then it gives up and the mail shows on the failed-deliveries page), and how long a
    # worker holds a mail it is sending (longer than JOB_TIMEOUT: a killed worker's mail is
    # sent again after this).
    OUTBOX_RETRY_DELAYS = (10, 60, 300, 1800, 3600, 6 * 3600)
    OUTBOX_LEASE_SECONDS = 180
    MAIL_REDIRECT_TO: str | None = None  # staging switch: every mail goes here instead
    # The town's address for links in mails, feeds and Open311 (never the request's Host).
    # Required in production; the embedded default takes the address `flask run` serves on.
    PUBLIC_BASE_URL: str | None = None

    # --- web security -----------------------------------------------------------------
    SECRET_KEY: str | None = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    LOGIN_LIMIT_PER_IP = "30 per 15 minutes"
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    RATELIMIT_STORAGE_URI: str | None = None  # default: REDIS_URL, else memory
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "lotse"
    # Redis down must not turn requests into 500s: count in each process's memory until it
    # answers again, with timeouts short enough that a hanging Redis does not hang requests.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1.0, "socket_timeout": 2.0}
    PUBLIC_CACHE_SECONDS = 60  # anonymous GETs: how long a proxy or browser may keep them
    PROXY_FIX = 0  # number of trusted reverse proxies in front of gunicorn

    # --- i18n -----------------------------------------------------------------------
    LANGUAGES = ["de", "en"]
    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"


def _normalise_db_url(url: str) -> str:
    """Accept the ``postgres://`` spellings hosting platforms hand out."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Apply the configuration chain to ``app.config``."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    if test_config is None:
        for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
            if os.environ.get(key):
                target = "SQLALCHEMY_DATABASE_URI" if key == "DATABASE_URL" else key
                app.config[target] = os.environ[key]
        app.config.from_prefixed_env("LOTSE")
    else:
        app.config["EMBEDDED_SWEEP"] = False
        app.config.update(test_config)

    embedded = not app.config["SQLALCHEMY_DATABASE_URI"]
    if embedded:
        db_path = Path(app.instance_path) / "lotse.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_path}"
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config["PUBLIC_BASE_URL"]:
        # A deployment configures from the environment; tests and benchmarks pass a mapping
        # and, on PostgreSQL too, get the served address like the embedded default.
        from_environment = test_config is None
        if from_environment and not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            # Links in mails would silently point nowhere: refuse to start, in one line.  Exit
            # status 3 is gunicorn's "worker failed to boot": its master stops too, instead
            # of booting new workers forever.
            print(
                "Lotse: LOTSE_PUBLIC_BASE_URL ist nicht gesetzt; in Produktion (DATABASE_URL) "
                "ist die öffentliche Adresse nötig, z. B. LOTSE_PUBLIC_BASE_URL=https://service.musterstadt.de",
                file=sys.stderr,
            )
            raise SystemExit(3)
        app.config["PUBLIC_BASE_URL"] = served_base_url()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite has no connection pool worth recycling, and WAL needs a longer lock wait.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options.pop("pool_recycle", None)
        options.setdefault("connect_args", {"timeout": 15})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if embedded and "LOTSE_SESSION_COOKIE_SECURE" not in os.environ and test_config is None:
        # The embedded default serves plain http on 127.0.0.1; production keeps Secure.
        app.config["SESSION_COOKIE_SECURE"] = False
        app.config["REMEMBER_COOKIE_SECURE"] = False
    if not app.config["RATELIMIT_STORAGE_URI"]:
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or "memory://"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))


def run_command_params() -> dict[str, Any] | None:
    """The options of ``flask run`` when this process was started by it, else ``None``."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.info_name != "run":
        return None
    return ctx.params


def served_base_url() -> str:
    """The address ``flask run`` serves on (``make run HOST=… PORT=…``), for mailed links.

    A wildcard host is reached on the loopback address from this machine.
    """
    params = run_command_params() or {}
    # Other commands of `make run` (seed-demo) learn the address from flask run's variables.
    host = params.get("host") or os.environ.get("FLASK_RUN_HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 (not binding, naming the address)
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if params.get("cert") else "http"
    port = params.get("port") or os.environ.get("FLASK_RUN_PORT") or 5000
    return f"{scheme}://{host}:{port}"


def _instance_secret(instance: Path) -> str:
    """Read the secret key from the instance folder, creating it on first run."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Write aside, then link into place: the link is atomic, so concurrent first starts
    # of several worker processes all end up with the same complete key.
    tmp = instance / f".secret_key.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    try:
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        tmp.unlink()
    return key
