"""The week view and the Belegungsplan kept for visitors without a session (buchung.kept):
a committed write shows at once — through the same worker, or through another one sharing
Redis — the time shown moves with the clock, the kept page is the page built, and nobody
is shown a page made for somebody else."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import buchung.clock
import buchung.kept
import buchung.services.availability
import buchung.views
from buchung.clock import monday_of
from tests.buchung.conftest import next_weekday
from tests.buchung.test_admin import closure_data
from tests.buchung.test_rules import booking_data
from tests.conftest import csrf_token_from

pytestmark = pytest.mark.both_dbs

DAY = next_weekday(3)  # a Thursday at least a week ahead
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(params=[False, True], ids=["one-worker", "two-workers-redis"])
def shared(request, redis_url) -> dict:
    """Config of the workers: their own memory, or one Redis (and key prefix) for both."""
    if not request.param:
        return {}
    return {"REDIS_URL": redis_url, "RATELIMIT_KEY_PREFIX": f"lotse-kept-{uuid.uuid4().hex[:8]}"}


@pytest.fixture
def app(make_app, shared):
    """The worker that staff, clubs and bookers use (and the other fixtures)."""
    return make_app(**shared)


@pytest.fixture
def visitor(app, make_app, shared):
    """A visitor without a session: served by another worker when they share Redis."""
    return (make_app(**shared) if shared else app).test_client()


@pytest.fixture
def builds(monkeypatch) -> list[str]:
    """The week views and plans built (not answered from what was kept)."""
    built: list[str] = []
    for name in ("_resource_page", "_plan"):
        real = getattr(buchung.views, name)

        def counted(resource_id, real=real, name=name):
            built.append(name)
            return real(resource_id)

        monkeypatch.setattr(buchung.views, name, counted)
    return built


def at(day: date, text: str) -> datetime:
    """A local time of the town (Europe/Berlin) as UTC."""
    return datetime.combine(day, time.fromisoformat(text), BERLIN).astimezone(UTC)


def stamp(day: date, text: str) -> str:
    """The ``?start=`` of a free cell's booking link: it is there only while the cell is free."""
    return at(day, text).strftime("start=%Y-%m-%dT%H:%MZ")


def week(rid: int) -> str:
    return f"/buchung/{rid}?ab={DAY.isoformat()}"


def plan(rid: int) -> str:
    return f"/buchung/{rid}/belegungsplan?woche={monday_of(DAY).isoformat()}"


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, no-cache"
    return response.get_data(as_text=True)


def test_a_booking_through_the_form_shows_at_once(visitor, form_post, make_resource, builds):
    rid = make_resource()
    assert stamp(DAY, "10:00") in page(visitor, week(rid))
    assert "10:00–11:00" not in page(visitor, plan(rid))
    kept = page(visitor, week(rid))
    assert builds == ["_resource_page", "_plan"]  # the second look was answered from memory
    assert stamp(DAY, "10:00") in kept

    response = form_post(f"/buchung/{rid}/buchen", booking_data(DAY))  # held for the guest
    assert response.status_code == 302

    html = page(visitor, week(rid))
    assert stamp(DAY, "10:00") not in html and stamp(DAY, "10:30") not in html
    assert stamp(DAY, "11:00") in html
    assert "10:00–11:00 Gymnastikhalle: belegt" in page(visitor, plan(rid))


def test_a_cancellation_by_the_office_frees_the_time_at_once(
    visitor, form_post, office, make_resource, book
):
    rid = make_resource()
    booking_id = book(rid, DAY, "10:00", "11:00")
    assert stamp(DAY, "10:00") not in page(visitor, week(rid))
    assert "10:00–11:00 Gymnastikhalle: belegt" in page(visitor, plan(rid))

    office()
    detail = f"/verwaltung/buchung/buchungen/{booking_id}"
    form_post(f"{detail}/stornieren", {"cancel-reason": "Wasserschaden"}, page=detail)

    assert stamp(DAY, "10:00") in page(visitor, week(rid))
    assert "10:00–11:00" not in page(visitor, plan(rid))


def test_a_closure_entered_by_the_office_shows_at_once(visitor, form_post, office, make_resource):
    rid = make_resource()
    assert "Bodensanierung" not in page(visitor, week(rid))
    assert "Bodensanierung" not in page(visitor, plan(rid))

    office()
    response = form_post(
        "/verwaltung/buchung/sperrzeiten/neu",
        closure_data(
            rid, title="Bodensanierung", start_day=DAY.isoformat(), end_day=DAY.isoformat()
        ),
    )
    assert response.status_code == 302

    html = page(visitor, week(rid))
    assert 'title="Bodensanierung"' in html and stamp(DAY, "10:00") not in html
    assert "ganztägig Gymnastikhalle: geschlossen (Bodensanierung)" in page(visitor, plan(rid))


def test_the_kept_page_is_the_page_built(app, make_app, visitor, make_hall, book, builds):
    """A divisible hall with a part booked ("teilweise belegt") and past hours today."""
    ids = make_hall()
    book(ids["A"], DAY, "18:00", "20:00")
    today = f"/buchung/{ids['hall']}"
    urls = [today, week(ids["hall"]), week(ids["A"]), plan(ids["hall"])]
    kept = [page(visitor, url) for url in urls]
    again = [page(visitor, url) for url in urls]
    assert len(builds) == len(urls)  # built once each, then answered from what was kept
    assert again == kept
    assert "teilweise belegt" in kept[1]
    unkept = make_app(BUCHUNG_PAGE_CACHE_SECONDS=0).test_client()
    assert [page(unkept, url) for url in urls] == kept
    assert len(builds) == 2 * len(urls)  # switched off: built every time


def test_a_page_for_staff_or_a_club_is_never_shown_to_a_visitor(
    app, client, visitor, office, make_resource, make_club
):
    rid = make_resource()
    anonymous = page(visitor, plan(rid))  # kept first
    office()
    staff_page = client.get(plan(rid)).get_data(as_text=True)
    assert "Als CSV herunterladen" in staff_page and "Abmelden" in staff_page
    assert "public" not in client.get(plan(rid)).headers.get("Cache-Control", "")
    assert page(visitor, plan(rid)) == anonymous
    assert "Als CSV herunterladen" not in anonymous and "Abmelden" not in anonymous

    club_client = app.test_client()  # a club's login, on a fresh visit to the week view
    make_club()
    login_page = club_client.get("/buchung/verein/anmelden").get_data(as_text=True)
    club_client.post(
        "/buchung/verein/anmelden",
        data={
            "email": "trainer@tv.example",
            "password": "vereinspasswort",
            "csrf_token": csrf_token_from(login_page),
        },
    )
    club_week = club_client.get(week(rid)).get_data(as_text=True)
    assert "Abmelden" in club_week
    assert "Abmelden" not in page(visitor, week(rid))


def test_past_cells_follow_the_clock(monkeypatch, visitor, make_resource, builds):
    rid = make_resource()
    clock: dict[str, datetime] = {}

    def now() -> datetime:
        return clock["now"]

    for module in (buchung.clock, buchung.kept, buchung.services.availability):
        monkeypatch.setattr(module, "utcnow", now)
    day = next_weekday(1)
    clock["now"] = at(day, "10:01")
    html = page(visitor, f"/buchung/{rid}")
    assert stamp(day, "10:00") not in html and stamp(day, "10:30") in html
    clock["now"] = at(day, "10:14")
    assert page(visitor, f"/buchung/{rid}") == html  # the same quarter hour: kept
    clock["now"] = at(day, "10:31")
    html = page(visitor, f"/buchung/{rid}")
    assert stamp(day, "10:30") not in html and stamp(day, "11:00") in html
    assert builds == ["_resource_page", "_resource_page"]
    # The day after, the week starts a day later.
    clock["now"] = at(day + timedelta(days=1), "00:01")
    tomorrow = day + timedelta(days=1)
    assert f"vom {tomorrow:%d.%m.%Y}" in page(visitor, f"/buchung/{rid}")


def test_an_unchanged_page_is_not_sent_again(visitor, make_resource):
    rid = make_resource()
    first = visitor.get(week(rid))
    again = visitor.get(week(rid), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.get_data()
