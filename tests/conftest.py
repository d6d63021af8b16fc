"""Fixtures for the whole suite (flaskr/Indico style).

Every test gets a fresh app from ``create_app``.  The database is SQLite in a temporary
folder unless the test (or its module) is marked ``both_dbs``: then it runs once on
SQLite and once on the machine's PostgreSQL.  PostgreSQL tests use a database of their
own, created for this test session and dropped at its end, so concurrent runs never
meet.  Redis tests use ``TEST_REDIS_URL`` with queue names unique to this session.

Unreachable services skip their tests with one line saying so, unless
``LOTSE_REQUIRE_SERVICES=1`` (set by ``.ci/run``): then they fail.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lotse import create_app
from lotse.extensions import db
from tests.mailbox import Mailbox

REQUIRE_SERVICES = os.environ.get("LOTSE_REQUIRE_SERVICES") == "1"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SESSION_TAG = uuid.uuid4().hex[:10]
# Apps built from the environment (no test config) must not sweep in the background either;
# a test that wants the embedded sweep passes EMBEDDED_SWEEP=True.
os.environ["LOTSE_EMBEDDED_SWEEP"] = "false"

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def service_unavailable(what: str, detail: str) -> None:
    """Skip (or, when services are required, fail) with one clear line."""
    message = f"{what} unreachable ({detail}): its tests are skipped"
    if REQUIRE_SERVICES:
        pytest.fail(message.replace("are skipped", "cannot run") + " and LOTSE_REQUIRE_SERVICES=1")
    pytest.skip(message)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_dbs: run the test on SQLite and on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" in metafunc.fixturenames and not any(
        m.name == "parametrize" and "db_backend" in str(m.args[0])
        for m in metafunc.definition.iter_markers()
    ):
        both = metafunc.definition.get_closest_marker("both_dbs") is not None
        metafunc.parametrize(
            "db_backend", ["sqlite", "postgres"] if both else ["sqlite"], indirect=True
        )


# --- services ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The PostgreSQL server's admin URL, or a skip when it does not answer."""
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        service_unavailable(
            "PostgreSQL", f"{make_url(PG_URL).render_as_string()}: {type(exc).__name__}"
        )
    return PG_URL


@pytest.fixture(scope="session")
def pg_database_factory(pg_server_url: str) -> Iterator[Callable[[str], str]]:
    """Create throw-away PostgreSQL databases; all are dropped at the end of the session."""
    created: list[str] = []
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")

    def make(purpose: str) -> str:
        name = f"lotse_{purpose}_{SESSION_TAG}_{len(created)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_test_database(pg_database_factory, tmp_path_factory) -> str:
    """One PostgreSQL database with the full schema, emptied after every test."""
    url = pg_database_factory("suite")
    app = create_app(base_config(url), instance_path=str(tmp_path_factory.mktemp("pg")))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_unavailable("Redis", f"{REDIS_URL}: {type(exc).__name__}")
    return REDIS_URL


# --- the app -------------------------------------------------------------------------


def base_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "QUEUE_NAME": f"lotse-test-{SESSION_TAG}",
        # One prefix per app: rate-limit counts of one test never reach another.
        "RATELIMIT_KEY_PREFIX": f"lotse-test-{SESSION_TAG}-{uuid.uuid4().hex[:8]}",
        "PUBLIC_BASE_URL": "http://localhost",
        "MAIL_SERVER": None,
        # Tests read what they just changed; the kept answers have their own test.
        "OPEN311_CACHE_SECONDS": 0,
    }
    config.update(overrides)
    return config


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, db_backend: str, tmp_path) -> str:
    if db_backend == "postgres":
        return request.getfixturevalue("pg_test_database")
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def make_app(database_url: str, db_backend: str, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build an app on this test's database; keyword arguments override the config."""
    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        app = create_app(
            base_config(database_url, **overrides), instance_path=str(tmp_path / "instance")
        )
        if not apps:
            with app.app_context():
                if db_backend == "sqlite":
                    db.create_all()
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            if db_backend == "postgres" and app is apps[0]:
                tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
                with db.engine.begin() as conn:
                    conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


# --- helpers ------------------------------------------------------------------------


FORM_PAGE = "/barrierefreiheit"  # a public page with a form (accessibility feedback)


def csrf_token_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
def form_post(client: FlaskClient) -> Callable[..., Any]:
    """POST a form the way a browser does: load the page, take its CSRF token, submit."""

    def post(url: str, data: dict | None = None, page: str | None = None, **kwargs):
        html = client.get(page or url).get_data(as_text=True)
        if not CSRF_RE.search(html):
            # Pages without a form of their own carry no token (the language switch has
            # none); the session's token is the same on every page, so take a form's.
            html = client.get(FORM_PAGE).get_data(as_text=True)
        payload = dict(data or {})
        payload.setdefault("csrf_token", csrf_token_from(html))
        return client.post(url, data=payload, **kwargs)

    return post


@pytest.fixture
def mailbox(app: Flask) -> Mailbox:
    """Mail sent from now on: ``mailbox.messages()``, ``.latest(to=…)``, ``Mailbox.links(msg)``."""
    return Mailbox(Path(app.instance_path) / "mail")


@pytest.fixture
def make_department(app: Flask) -> Callable[..., Any]:
    from lotse.models import Department

    def make(name: str = "Tiefbau", email: str | None = None, **kw: Any) -> Department:
        with app.app_context():
            dep = Department(name=name, email=email or f"{name.lower()}@town.example", **kw)
            db.session.add(dep)
            db.session.commit()
            db.session.refresh(dep)
            db.session.expunge(dep)
            return dep

    return make


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Any]:
    from lotse.cli import create_staff_user
    from lotse.models import Department

    def make(
        email: str = "clerk@town.example",
        password: str = "correct horse battery",
        roles: tuple[str, ...] = ("clerk",),
        departments: tuple[int, ...] = (),
        name: str = "Chris Clerk",
        active: bool = True,
    ):
        with app.app_context():
            deps = [db.session.get(Department, i) for i in departments]
            user = create_staff_user(email, name, password, list(roles), deps)
            user.active = active
            db.session.commit()
            return user.id

    return make


class AuthActions:
    def __init__(self, client: FlaskClient, form_post):
        self._client = client
        self._post = form_post

    def login(self, email: str = "clerk@town.example", password: str = "correct horse battery"):
        return self._post("/anmelden", {"email": email, "password": password})

    def logout(self):
        return self._post("/abmelden", page="/verwaltung/")


@pytest.fixture
def auth(client: FlaskClient, form_post) -> AuthActions:
    return AuthActions(client, form_post)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"lotse: PostgreSQL {make_url(PG_URL).render_as_string()}, Redis {REDIS_URL}, "
        f"services {'required' if REQUIRE_SERVICES else 'optional'}"
    ]
