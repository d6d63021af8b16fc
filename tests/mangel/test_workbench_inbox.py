"""The inbox through the web: area filter, full-text search, working down the list."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest

from lotse.extensions import db
from lotse.models import utcnow
from tests.conftest import csrf_token_from
from tests.mangel.test_workbench import BASE, staff  # noqa: F401 - fixture

pytestmark = pytest.mark.both_dbs

# A triangle (lon, lat) whose bounding box also holds a point outside the triangle.
TRIANGLE = [[6.490, 50.746], [6.497, 50.746], [6.490, 50.752], [6.490, 50.746]]


@pytest.fixture
def area_id(app) -> int:
    from mangel.routing.areas import import_areas
    from mangel.routing.models import Area

    feature = {
        "type": "Feature",
        "properties": {"name": "Ortsteil Dreieck"},
        "geometry": {"type": "Polygon", "coordinates": [TRIANGLE]},
    }
    with app.app_context():
        import_areas(json.dumps(feature).encode())
        db.session.commit()
        return db.session.scalar(db.select(Area.id))


def test_area_filter_holds_for_list_csv_and_map(client, auth, make_report, staff, area_id):  # noqa: F811
    inside = make_report(lat=50.747, lon=6.491, department_id=staff["tiefbau"])
    in_box_only = make_report(lat=50.751, lon=6.496, department_id=staff["tiefbau"])
    far = make_report(lat=50.755, lon=6.480, department_id=staff["tiefbau"])
    auth.login("a@town.example")
    assert "Ortsteil Dreieck" in client.get(f"{BASE}/").get_data(as_text=True)
    for view in ("", "karte"):
        html = client.get(f"{BASE}/{view}?area={area_id}").get_data(as_text=True)
        assert f"{BASE}/{inside}" in html, view
        assert f"{BASE}/{in_box_only}" not in html and f"{BASE}/{far}" not in html, view
    body = client.get(f"{BASE}/export.csv?area={area_id}").text
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert [row[0] for row in rows[1:]] == [str(inside)]
    unknown = client.get(f"{BASE}/?area=999").get_data(as_text=True)
    assert "Keine Meldungen gefunden" in unknown


def test_area_filter_with_most_of_the_box_inside(client, auth, make_report, staff, area_id):  # noqa: F811
    inside = [
        make_report(lat=50.7465, lon=6.4905 + i * 0.0005, department_id=staff["tiefbau"])
        for i in range(4)
    ]
    outside = make_report(lat=50.751, lon=6.496, department_id=staff["tiefbau"])
    auth.login("a@town.example")
    html = client.get(f"{BASE}/?area={area_id}").get_data(as_text=True)
    assert all(f"{BASE}/{rid}" in html for rid in inside)
    assert f"{BASE}/{outside}" not in html


def test_full_text_search_by_word_stem(
    client,
    auth,
    make_report,
    categories,
    staff,  # noqa: F811
):
    potholes = make_report(
        description="Zwei tiefe Schlaglöcher vor Haus 3", department_id=staff["tiefbau"]
    )
    lamp = make_report(
        description="Laterne ist dunkel",
        street="Hauptstraße",
        category_id=categories["light"],
        department_id=staff["tiefbau"],
    )
    auth.login("a@town.example")

    def found(q: str) -> set[int]:
        html = client.get(f"{BASE}/", query_string={"q": q}).get_data(as_text=True)
        return {rid for rid in (potholes, lamp) if f"{BASE}/{rid}?" in html}

    assert found("schlaglöcher") == {potholes}
    assert found("Hauptstraße") == {lamp}
    assert found(f"#{lamp}") == found(str(lamp)) == {lamp}
    assert found("Ampel") == set()
    # German stems and the web search syntax, on PostgreSQL and SQLite alike
    assert found("Schlagloch") == {potholes}
    assert found("Laternen dunkel") == {lamp}
    assert found("Laterne -dunkel") == set()
    assert found('"Schlaglöcher vor"') == {potholes}
    assert found("Ampel or Laternen") == {lamp}
    assert found("schlagloch -") == {potholes}
    from mangel.models import Report

    with client.application.app_context():  # an edited text is found by its new words
        db.session.get(Report, lamp).description = "Ampel ohne Strom"
        db.session.commit()
    assert found("Ampel") == {lamp} and found("dunkel") == set()


def test_search_matches_category_names(client, auth, make_report, categories, staff):  # noqa: F811
    """A clerk types a category ("Straßenbeleuchtung", or its main category) and finds its
    reports whatever their text; further words narrow them down by text."""
    pothole = make_report(description="Loch", street="Hauptstraße", department_id=staff["tiefbau"])
    lamp = make_report(
        description="dunkel",
        street="Hauptstraße",
        category_id=categories["light"],
        department_id=staff["tiefbau"],
    )
    other_lamp = make_report(
        description="flackert",
        street="Schulweg",
        category_id=categories["light"],
        department_id=staff["tiefbau"],
    )
    auth.login("a@town.example")

    def found(q: str) -> set[int]:
        html = client.get(f"{BASE}/", query_string={"q": q}).get_data(as_text=True)
        return {rid for rid in (pothole, lamp, other_lamp) if f"{BASE}/{rid}?" in html}

    assert found("Straßenbeleuchtung") == {lamp, other_lamp}
    assert found("beleuchtung") == set()  # a word of a name is matched from its start
    assert found("schlagloch") == {pothole}
    assert found("Straßen") == {pothole, lamp, other_lamp}  # the main category: all leaves
    assert found("Straßenbeleuchtung Hauptstraße") == {lamp}
    assert found("Straßenbeleuchtung -flackert") == {lamp}
    assert found("flackert") == {other_lamp}  # text alone, as before


def test_next_report_follows_the_selection_and_its_order(
    client,
    auth,
    make_report,
    staff,  # noqa: F811
):
    def report(hours: int, **kw) -> int:
        kw.setdefault("department_id", staff["tiefbau"])
        return make_report(created_at=utcnow() - timedelta(hours=hours), **kw)

    oldest, middle, newest = report(30, priority=2), report(20), report(10, priority=2)
    report(15, status="fixed")  # closed: not in the default selection
    report(5, department_id=staff["green"])  # another department's
    auth.login("a@town.example")

    def next_of(rid: int, args: str = "") -> int | None:
        html = client.get(f"{BASE}/{rid}{args}").get_data(as_text=True)
        match = re.search(r'<a rel="next" accesskey="n"[^>]* href="[^"]*/(\d+)(\?[^"]*)?"', html)
        return int(match.group(1)) if match else None

    assert [next_of(newest), next_of(middle), next_of(oldest)] == [middle, oldest, None]
    assert [next_of(oldest, "?sort=alt"), next_of(middle, "?sort=alt")] == [middle, newest]
    assert next_of(oldest, "?sort=prioritaet") == newest
    assert next_of(newest, "?sort=prioritaet") == middle
    html = client.get(f"{BASE}/?sort=alt").get_data(as_text=True)
    assert f'href="{BASE}/{oldest}?sort=alt"' in html  # the list hands its order on
    page = client.get(f"{BASE}/{oldest}?sort=alt").get_data(as_text=True)
    assert f'href="{BASE}/{middle}?sort=alt"' in page


def test_overdue_reports_are_highlighted(client, auth, make_report, staff):  # noqa: F811
    yesterday = date.today() - timedelta(days=1)
    late = make_report(due_date=yesterday, department_id=staff["tiefbau"])
    done = make_report(due_date=yesterday, status="fixed", department_id=staff["tiefbau"])
    in_time = make_report(due_date=date.today() + timedelta(days=3), department_id=staff["tiefbau"])
    auth.login("a@town.example")
    html = client.get(f"{BASE}/?status=alle").get_data(as_text=True)
    rows = {
        rid: html[: html.index(f"{BASE}/{rid}?")].rsplit("<tr", 1)[1]
        for rid in (late, done, in_time)
    }
    assert 'class="overdue"' in rows[late]
    assert "overdue" not in rows[done] and "overdue" not in rows[in_time]
    assert html.count("<strong>überfällig</strong>") == 1


def test_a_large_selection_is_counted_up_to_a_limit_and_paged_on(
    make_app,
    make_report,
    staff,  # noqa: F811
):
    app = make_app(MANGEL_INBOX_COUNT_LIMIT=2, MANGEL_PAGE_SIZE=1)
    client = app.test_client()
    for hours in range(4):
        make_report(department_id=staff["tiefbau"], created_at=utcnow() - timedelta(hours=hours))
    token = csrf_token_from(client.get("/anmelden").text)
    login = {"email": "a@town.example", "password": "correct horse battery", "csrf_token": token}
    assert client.post("/anmelden", data=login).status_code == 302
    assert "mehr als 2 Meldungen" in client.get(f"{BASE}/").text
    for number in (2, 3):
        html = client.get(f"{BASE}/?page={number}").text
        assert 'rel="next"' in html and f"Seite {number}<" in html
    last = client.get(f"{BASE}/?page=4").text
    assert "4 Meldungen" in last and "Seite 4 von 4" in last and 'rel="next"' not in last
