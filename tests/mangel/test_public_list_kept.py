"""The public list kept for visitors without a session: the same page, never a stale one.

A kept page is answered without a database statement; a clerk's change through the staff
pages shows on the very next anonymous view, also in another worker (two apps sharing
Redis on PostgreSQL; the one embedded process on SQLite).
"""

from __future__ import annotations

import re
import uuid

import pytest

from lotse.extensions import db
from lotse.models import utcnow
from tests.conftest import csrf_token_from
from tests.mangel.test_workbench import staff  # noqa: F401 - fixture
from tests.sql_counter import count_statements

pytestmark = pytest.mark.both_dbs

BASE = "/verwaltung/maengel/meldungen"


@pytest.fixture
def workers(app, make_app, db_backend, request):
    """(the clerk's app, the public's app): two workers sharing Redis on PostgreSQL, the
    embedded single process on SQLite."""
    if db_backend == "sqlite":
        return app, app
    shared = {
        "REDIS_URL": request.getfixturevalue("redis_url"),
        "RATELIMIT_KEY_PREFIX": f"lotse-test-list-{uuid.uuid4().hex[:8]}",
    }
    return make_app(**shared), make_app(**shared)


def view(client, app, url: str, **headers) -> tuple[str, int]:
    """The page and the number of SQL statements answering it took (0: it was kept)."""
    with count_statements(app) as statements:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True), len(statements)


def post_form(client, url: str, data: dict, page: str):
    """POST as a browser does, with the token of the page the form is on."""
    html = client.get(page).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token_from(html), **data})


def clerk_of(app):
    clerk = app.test_client()
    login = {"email": "a@town.example", "password": "correct horse battery"}
    assert post_form(clerk, "/anmelden", login, "/anmelden").status_code == 302
    return clerk


def card(html: str, report_id: int) -> str | None:
    """The list's entry of one report, or None when the list does not show it."""
    for entry in re.findall(r'<li class="card">.*?</li>', html, re.S):
        if f'href="/maengel/{report_id}"' in entry:
            return entry
    return None


CHANGES = {
    "erledigt": ("/status", {"status": "fixed", "public_note": ""}),
    "verborgen": ("/freigabe", {"description": "Loch", "hidden": "y"}),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_clerks_change_shows_at_once_on_the_next_anonymous_view(
    workers,
    make_report,
    staff,  # noqa: F811
    change,
):
    clerk_app, public_app = workers
    changed = make_report(department_id=staff["tiefbau"], street="Schulstraße")
    other = make_report(department_id=staff["tiefbau"], street="Hauptstraße")
    visitor = public_app.test_client()
    for url in ("/maengel/", "/maengel/?status=fixed"):
        view(visitor, public_app, url)
    html, statements = view(visitor, public_app, "/maengel/")
    assert statements == 0  # kept
    assert "offen" in card(html, changed) and card(html, other)
    assert card(view(visitor, public_app, "/maengel/?status=fixed")[0], changed) is None

    path, data = CHANGES[change]
    page = f"{BASE}/{changed}"
    assert post_form(clerk_of(clerk_app), page + path, data, page).status_code == 302

    html, statements = view(visitor, public_app, "/maengel/")
    assert statements > 0  # built afresh after the write
    fixed = view(visitor, public_app, "/maengel/?status=fixed")[0]
    if change == "erledigt":
        assert "erledigt" in card(html, changed) and "offen" not in card(html, changed)
        assert card(fixed, changed) is not None
    else:
        assert card(html, changed) is None and card(fixed, changed) is None
    assert card(html, other) is not None


URLS = [
    "/maengel/",
    "/maengel/?page=2",
    "/maengel/?status=fixed",
    "/maengel/?category=&status=fixed",
    "/maengel/?page=1&status=open",
    "/maengel/?status=open&page=1",
    "/maengel/?teil=liste",
    "/maengel/?teil=liste&page=2",
]


def test_a_kept_page_is_the_page_rendered(make_app, categories, make_report):
    from mangel.models import Support

    kept_app = make_app(MANGEL_PAGE_SIZE=2)
    rendering = make_app(MANGEL_PAGE_SIZE=2, MANGEL_LIST_CACHE_SECONDS=0)
    supported = make_report(status="fixed")
    for street in ("Am Markt", "", "Wiesenweg"):
        make_report(street=street, category_id=categories["light"])
    with kept_app.app_context():
        for person in ("a", "b"):
            db.session.add(Support(report_id=supported, email_hash=person, confirmed_at=utcnow()))
        db.session.commit()
    kept_visitor, visitor = kept_app.test_client(), rendering.test_client()
    for url in URLS:
        for lang in ("de", "en"):
            view(kept_visitor, kept_app, url, **{"Accept-Language": lang})
            again = kept_visitor.get(url, headers={"Accept-Language": lang})
            fresh = visitor.get(url, headers={"Accept-Language": lang})
            assert again.data == fresh.data, (url, lang)
            assert again.headers.get("ETag") == fresh.headers.get("ETag")
            assert again.headers["Cache-Control"] == fresh.headers["Cache-Control"]
    assert view(kept_visitor, kept_app, "/maengel/?teil=liste")[1] == 0
    assert kept_visitor.get("/maengel/?teil=liste").headers["Cache-Control"] == "no-store"
    assert view(visitor, rendering, "/maengel/")[1] > 0  # MANGEL_LIST_CACHE_SECONDS=0


def test_filters_pages_and_languages_are_kept_apart(make_app, categories, make_report):
    app = make_app(MANGEL_PAGE_SIZE=1)
    older = make_report(status="fixed")
    newer = make_report(category_id=categories["light"])
    visitor = app.test_client()
    shows = {
        "/maengel/": newer,
        "/maengel/?page=2": older,
        "/maengel/?status=fixed": older,
        f"/maengel/?category={categories['light']}": newer,
        f"/maengel/?category={categories['pothole']}": older,
    }
    for built in (True, False):  # built, then kept
        for url, report_id in shows.items():
            html, statements = view(visitor, app, url)
            assert (statements > 0) == built, url
            assert [card(html, r) is not None for r in (older, newer)] == [
                report_id == older,
                report_id == newer,
            ], url
    assert "Page 1" in view(visitor, app, "/maengel/", **{"Accept-Language": "en"})[0]
    assert "Seite 1" in view(visitor, app, "/maengel/", **{"Accept-Language": "de"})[0]


@pytest.mark.parametrize(
    "query",
    ["page=01", "page=0", "page=99999", "page=%C2%B2", "page=1&page=2", "foo=1", "teil=x"],
)
def test_other_queries_are_rendered_each_time(app, make_report, query):
    make_report()
    visitor = app.test_client()
    view(visitor, app, f"/maengel/?{query}")
    assert view(visitor, app, f"/maengel/?{query}")[1] > 0


def test_unknown_filters_are_refused_each_time(client, make_report):
    make_report()
    for _ in range(2):
        assert client.get("/maengel/?status=bogus").status_code == 400
        assert client.get("/maengel/?category=%C2%B2").status_code == 400


def test_visitors_with_a_session_get_their_own_page(
    app,
    client,
    auth,
    make_report,
    staff,  # noqa: F811
):
    make_report(department_id=staff["tiefbau"])
    anonymous = app.test_client()
    for _ in range(2):
        public = view(anonymous, app, "/maengel/")[0]
    assert "Abmelden" not in public and "csrf_token" not in public

    auth.login("a@town.example")
    for _ in range(2):
        html, statements = view(client, app, "/maengel/")
        assert statements > 0 and "Abmelden" in html and "csrf_token" in html
    html, statements = view(anonymous, app, "/maengel/")
    assert statements == 0 and html == public  # the clerk's page was not kept for others

    with_cookie = app.test_client()
    with_cookie.set_cookie("session", "anything")
    assert view(with_cookie, app, "/maengel/")[1] > 0


def test_a_page_that_starts_a_session_is_not_kept(make_app, make_report):
    from flask import session

    app = make_app()

    @app.context_processor
    def remember_the_visit():  # as a future template that gives every visitor a session
        session["seen"] = True
        return {}

    make_report()
    visitor = app.test_client()
    for _ in range(2):
        html, statements = view(visitor, app, "/maengel/")
        assert statements > 0
        visitor.delete_cookie("session")  # the next visitor again comes without one
