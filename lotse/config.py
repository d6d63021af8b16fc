"""Configuration chain: defaults → instance/config.py → environment → test mapping.

Every key below may be overridden in ``instance/config.py`` or by an environment
variable ``LOTSE_<KEY>`` (values are parsed as JSON where possible, so
``LOTSE_MAP_ZOOM=14`` is an int).  ``DATABASE_URL``, ``REDIS_URL`` and ``SECRET_KEY``
are read without prefix, as hosting platforms set them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

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
        "barrierefreiheit": (
            "<p>Die Gemeinde Musterstadt ist bemüht, dieses Angebot im Einklang mit der "
            "Barrierefreie-Informationstechnik-Verordnung (BITV 2.0) barrierefrei zugänglich "
            "zu machen. Alle Funktionen sind ohne Karte und mit der Tastatur nutzbar.</p>"
            "<p>Stand der Vereinbarkeit: weitgehend vereinbar.</p>"
            "<p>Barrieren melden: barrierefreiheit@musterstadt.example</p>"
            "<p>Schlichtungsstelle: Ombudsstelle für barrierefreie Informationstechnik "
            "des Landes.</p>"
        ),
    }

    # Where the feedback form of the Erklärung zur Barrierefreiheit sends its messages.
    ACCESSIBILITY_FEEDBACK_TO = "barrierefreiheit@musterstadt.example"
    ACCESSIBILITY_FEEDBACK_LIMIT = "5 per 15 minutes"  # per IP address

    # --- infrastructure -------------------------------------------------------------
    SQLALCHEMY_DATABASE_URI: str | None = None  # default: SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    REDIS_URL: str | None = None  # unset: jobs run in-process right after the commit
    QUEUE_NAME = "lotse"
    REDIS_CONNECT_TIMEOUT = 1.0  # seconds; a dead Redis must never hang a request
    REDIS_SOCKET_TIMEOUT = 2.0
    JOB_TIMEOUT = 120
    SWEEP_INTERVAL = 60  # seconds between periodic sweeps (the workers' cron)

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
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"

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
        app.config.update(test_config)

    embedded = not app.config["SQLALCHEMY_DATABASE_URI"]
    if embedded:
        db_path = Path(app.instance_path) / "lotse.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_path}"
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite has no connection pool worth pinging, and WAL needs a longer lock wait.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options.pop("pool_pre_ping", None)
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
