"""What every request costs: no session cookie for a plain visit, public GETs cacheable."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token_from


@pytest.mark.parametrize("path", ["/", "/impressum", "/leichte-sprache", "/maengel/"])
def test_a_plain_visit_gets_no_cookie_and_a_cacheable_page(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert {"Accept-Language", "Cookie"} <= set(response.vary)
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_a_page_with_a_form_or_a_session_is_not_public(client, auth, make_user):
    form_page = client.get("/barrierefreiheit")
    assert "Set-Cookie" in form_page.headers  # the CSRF token lives in the session
    assert "public" not in form_page.headers.get("Cache-Control", "")
    csrf_token_from(form_page.get_data(as_text=True))
    # With the session cookie the visitor may see a flash or a login: nothing is shared.
    assert "public" not in client.get("/").headers.get("Cache-Control", "")
    make_user()
    auth.login()
    staff_page = client.get("/")
    assert "ETag" not in staff_page.headers and "Abmelden" in staff_page.get_data(as_text=True)


def test_pages_keep_their_own_cache_rules(client):
    assert client.get("/maengel/verfolgen/unknown").status_code == 404
    bbox = client.get("/maengel/karte.json?bbox=6.48,50.74,6.50,50.76")
    assert bbox.headers["Cache-Control"] == "public, max-age=30"


@pytest.mark.both_dbs
def test_the_engine_does_not_ping_before_each_checkout(make_app, db_backend):
    app = make_app()
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert "pool_pre_ping" not in options
    if db_backend == "postgres":
        assert options["pool_recycle"] == 600


@pytest.mark.both_dbs
def test_a_dropped_database_connection_costs_one_request(make_app, db_backend):
    if db_backend != "postgres":
        pytest.skip("SQLite has no server to drop connections")
    from sqlalchemy import create_engine, text

    from lotse.extensions import db

    app = make_app(MANGEL_LIST_CACHE_SECONDS=0)  # every request reads the database
    client = app.test_client()
    assert client.get("/maengel/").status_code == 200
    with app.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()
    killer = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with killer.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()
    dropped = client.get("/maengel/")
    assert dropped.status_code == 503 and dropped.headers["Retry-After"] == "1"
    assert client.get("/maengel/").status_code == 200


@pytest.mark.parametrize("value", ["abc.jpg", "a b/ü.jpg", "x;y=z"])
def test_a_url_filled_in_is_the_url_built(app, value):
    from lotse.urls import public_url, public_url_filler

    with app.test_request_context():
        assert public_url_filler("mangel.photo", "name")(value) == public_url(
            "mangel.photo", name=value
        )


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("fmt", ["medium", "short", "dd.MM.yyyy"])
def test_a_list_formats_dates_as_the_filter_does(app, lang, fmt):
    from datetime import UTC, date, datetime

    from flask_babel import format_date

    from lotse.formatting import date_formatter

    moments = [
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 1, tzinfo=UTC),
        date(2026, 10, 25),
    ]
    with app.test_request_context(headers={"Accept-Language": lang}):
        formatted = date_formatter(fmt)
        assert [formatted(m) for m in moments] == [format_date(m, fmt) for m in moments]


def test_the_start_page_is_rendered_once_per_language(app, client, auth, make_user):
    german = client.get("/").get_data(as_text=True)
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="de">' in german and '<html lang="en">' in english
    assert client.get("/").get_data(as_text=True) == german
    client.set_cookie("lang", "en")
    assert client.get("/").get_data(as_text=True) == english
    client.delete_cookie("lang")
    make_user()
    auth.login()
    assert "Abmelden" in client.get("/").get_data(as_text=True)
    assert "Abmelden" not in app.test_client().get("/").get_data(as_text=True)
