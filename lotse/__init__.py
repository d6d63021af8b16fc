"""Lotse: Mängelmelder and hall booking for German municipalities."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

from lotse.config import PROJECT_DIR, load_config
from lotse.extensions import babel, csrf, db, limiter, login, migrate
from lotse.urls import public_url


def select_locale() -> str:
    """The visitor's choice (cookie/session), else their browser's languages, else German."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return languages[0]  # a job or the sweep: German, the town's language
    chosen = request.cookies.get("lang") or session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def create_app(
    test_config: dict[str, Any] | None = None, instance_path: str | None = None
) -> Flask:
    """Build the application: configuration chain, extensions, both services."""
    app = Flask(
        __name__,
        instance_path=instance_path
        or os.environ.get("LOTSE_INSTANCE_PATH")
        or str(PROJECT_DIR / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_DIR / "templates"),
        static_folder=str(PROJECT_DIR / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    load_config(app, test_config)
    from lotse import inputs

    inputs.init_app(app)  # before any blueprint: its routes use the bounded <int:…>
    if app.config["PROXY_FIX"]:
        n = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    translation_dirs = [
        str(PROJECT_DIR / pkg / "translations") for pkg in ("lotse", "mangel", "buchung")
    ]
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(translation_dirs))

    db.init_app(app)
    from lotse.models import alembic_include_name, alembic_render_item

    migrate.init_app(
        app,
        db,
        directory=str(PROJECT_DIR / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=alembic_render_item,
        include_name=alembic_include_name,
    )
    csrf.init_app(app)
    login.init_app(app)
    login.login_view = "auth.login_view"
    login.login_message = None
    login.session_protection = "strong"
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)

    from lotse import admin, cache, cli, errors, outbox, requestcost, security, sweeper, views
    from lotse.auth import bp as auth_bp
    from lotse.hooks import register_sweep

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)
    app.jinja_env.globals["public_url"] = public_url
    app.register_blueprint(views.bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin.bp)
    errors.init_app(app)
    security.init_app(app)
    requestcost.init_app(app)
    cache.init_app(app)
    cli.init_app(app)
    register_sweep(app, outbox.sweep)

    import buchung
    import mangel

    mangel.init_app(app)
    buchung.init_app(app)
    sweeper.init_app(app)
    return app


def _tune_sqlite(app: Flask) -> None:
    """WAL and foreign keys for every SQLite connection of this app."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
