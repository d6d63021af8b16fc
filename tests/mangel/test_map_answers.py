"""The public map's data (issue 24): boxes widened to the cluster grid, answers kept and shared
by every worker, and a clerk's change on the map at the next request, never a stale pin."""

from __future__ import annotations

import math
import re
import uuid
from pathlib import Path

import pytest

from lotse.extensions import db
from mangel.mapdata import (
    CELLS_ACROSS,
    EDGE_SLACK,
    MAP_GENERATION,
    MAP_WIDE_GENERATION,
    REGION_LEVELS,
    map_view,
    parse_bbox,
    view_regions,
)
from mangel.models import CLUSTER_BASE_DEG, CLUSTER_LEVELS
from tests.conftest import FORM_PAGE
from tests.mangel.conftest import INSIDE
from tests.mangel.test_workbench import BASE, staff  # noqa: F401 - fixture

pytestmark = pytest.mark.both_dbs

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "mangel.js"
# A phone's view at zoom 17 around the test reports, as Leaflet's toBBoxString writes it.
VIEW = f"{INSIDE[1] - 0.0021},{INSIDE[0] - 0.00203},{INSIDE[1] + 0.0021},{INSIDE[0] + 0.00203}"


def widened(box: str) -> str:
    """The box as the map script asks for it."""
    return map_view(parse_bbox(box)).key


def ids(client, box: str, query: str = "") -> list[int]:
    response = client.get(f"/maengel/karte.json?bbox={box}{query}")
    assert response.status_code == 200
    return sorted(f["properties"]["id"] for f in response.get_json()["features"])


@pytest.mark.parametrize(
    "box",
    [
        VIEW,
        "6.4301,50.6912,6.5544,50.7903",  # the whole town on a desktop
        "6.49001,50.7480,6.49999,50.74999",
        "-180,-90,180,90",
        "6.4935,50.7489,6.49350001,50.74890001",
    ],
)
def test_the_widened_box_holds_the_view_and_is_its_own_widening(box):
    west, south, east, north = parse_bbox(box)
    view = map_view((west, south, east, north))
    w, s, e, n = view.bbox
    assert w <= west and s <= south and e >= east and n >= north
    assert re.fullmatch(r"(-?\d+\.\d{4},){3}-?\d+\.\d{4}", view.key)
    assert widened(view.key) == view.key
    # About a dozen clusters across: at most CELLS_ACROSS cells, and a finer grid has more.
    lat = math.radians((s + n) / 2)
    assert max(view.north - view.south, (view.east - view.west) * math.cos(lat)) <= 13.0001
    if view.level:
        finer = view.cell / 2
        rows = math.ceil(north / finer) - math.floor(south / finer)
        cols = math.ceil(east / finer) - math.floor(west / finer)
        assert max(rows, cols * math.cos(lat)) > 12.99


def test_the_map_script_widens_with_the_servers_numbers():
    grid = re.search(
        r"var GRID = \{ base: ([\d.e-]+), levels: (\d+), across: (\d+), slack: ([\d.e-]+) \}",
        SCRIPT.read_text(),
    )
    assert grid, "mangel.js lost its GRID"
    base, levels, across, slack = grid.groups()
    assert float(base) == CLUSTER_BASE_DEG and int(levels) == CLUSTER_LEVELS
    assert int(across) == CELLS_ACROSS and float(slack) == EDGE_SLACK
    assert 'bbox=" + widenedBox(map.getBounds())' in SCRIPT.read_text()


def test_the_scripts_widened_request_is_answered_as_the_view(client, make_report):
    here = make_report()
    near = make_report(lat=INSIDE[0] + 0.0019, lon=INSIDE[1] - 0.0019)
    make_report(lat=INSIDE[0] + 0.03)  # far outside
    asked = widened(VIEW)
    assert asked != VIEW
    response = client.get(f"/maengel/karte.json?bbox={asked}")
    assert response.headers["Cache-Control"] == "public, max-age=30"
    assert sorted(f["properties"]["id"] for f in response.get_json()["features"]) == [here, near]
    # Another client asking for the exact view gets the same answer, byte for byte.
    assert client.get(f"/maengel/karte.json?bbox={VIEW}").data == response.data


def test_filtered_answers_are_kept_apart(client, categories, make_report):
    open_pothole = make_report()
    fixed_pothole = make_report(status="fixed")
    light = make_report(category_id=categories["light"])
    box = widened(VIEW)
    assert ids(client, box) == sorted([open_pothole, fixed_pothole, light])
    assert ids(client, box, "&status=fixed") == [fixed_pothole]
    assert ids(client, box, f"&category={categories['light']}") == [light]
    assert ids(client, box, f"&category={categories['pothole']}&status=open") == [open_pothole]
    assert ids(client, box) == sorted([open_pothole, fixed_pothole, light])


def test_filtered_clusters_count_only_the_filtered_reports(make_app, make_report):
    app = make_app(MANGEL_MAP_MAX_POINTS=3)
    for i in range(5):
        make_report(lat=INSIDE[0] + i * 0.0002, status="fixed")
    for i in range(7):
        make_report(lat=INSIDE[0] - i * 0.0002)
    client = app.test_client()
    box = widened(VIEW)

    def counts(query: str = "") -> int:
        features = client.get(f"/maengel/karte.json?bbox={box}{query}").get_json()["features"]
        assert all(f["properties"].get("cluster") for f in features)
        return sum(f["properties"]["count"] for f in features)

    assert counts() == 12
    assert counts("&status=fixed") == 5
    assert counts("&status=open") == 7


def move_past_the_orm(app, report_id: int, lat: float) -> None:
    """A write the generation does not see (as an import or a script would do it)."""
    from mangel.models import Report

    with app.app_context():
        table = Report.__table__
        db.session.execute(table.update().where(table.c.id == report_id).values(lat=lat))
        db.session.commit()


def test_answers_are_kept_for_visitors_without_a_session_only(make_app, make_report):
    app = make_app(MANGEL_MAP_CACHE_SECONDS=60)
    report = make_report()
    anonymous = app.test_client()
    box = widened(VIEW)
    assert ids(anonymous, box) == [report]
    move_past_the_orm(app, report, INSIDE[0] + 0.03)
    assert ids(anonymous, box) == [report]  # kept: this write did not bump the generation
    with_session = app.test_client()
    with_session.get(FORM_PAGE)  # the form's token starts a session
    assert ids(with_session, box) == []
    with app.app_context():
        from lotse.cache import bump

        bump(MAP_GENERATION)
    assert ids(anonymous, box) == []


def test_no_answer_is_kept_when_switched_off(make_app, make_report):
    app = make_app(MANGEL_MAP_CACHE_SECONDS=0)
    report = make_report()
    client = app.test_client()
    assert ids(client, widened(VIEW)) == [report]
    move_past_the_orm(app, report, INSIDE[0] + 0.03)
    assert ids(client, widened(VIEW)) == []


@pytest.fixture
def workers(make_app, request):
    """The app a clerk uses and a second one for the public: two gunicorn workers sharing
    Redis, or (``process``) one worker keeping answers in its own memory.  Unparametrized:
    the test suite's app."""
    kind = getattr(request, "param", None)
    if kind is None:
        app = make_app()
        return app, app
    if kind == "process":
        app = make_app(MANGEL_MAP_CACHE_SECONDS=60)
        return app, app
    shared = {
        "REDIS_URL": request.getfixturevalue("redis_url"),
        "RATELIMIT_KEY_PREFIX": f"lotse-test-map-{uuid.uuid4().hex[:8]}",
        "MANGEL_MAP_CACHE_SECONDS": 60,
    }
    return make_app(**shared), make_app(**shared)


@pytest.fixture
def app(workers):
    return workers[0]


@pytest.mark.parametrize("workers", ["redis", "process"], indirect=True)
def test_a_clerk_hiding_and_releasing_a_report_shows_on_the_next_map(
    workers,
    client,
    auth,
    form_post,
    make_report,
    staff,  # noqa: F811
):
    clerk_app, public_app = workers
    report = make_report(description="Loch", department_id=staff["tiefbau"])
    other = make_report(lat=INSIDE[0] + 0.001, department_id=staff["tiefbau"])
    public = public_app.test_client()
    box = widened(VIEW)
    assert ids(public, box) == sorted([report, other])
    assert ids(public, box) == sorted([report, other])  # now kept

    auth.login("a@town.example")
    url = f"{BASE}/{report}"
    form_post(f"{url}/freigabe", {"description": "Loch", "hidden": "y"}, page=url)
    assert ids(public, box) == [other]
    assert ids(clerk_app.test_client(), box) == [other]

    form_post(f"{url}/freigabe", {"description": "Loch"}, page=url)
    assert ids(public, box) == sorted([report, other])

    form_post(f"{url}/status", {"status": "fixed", "public_note": "Geflickt."}, page=url)
    assert ids(public, box, "&status=fixed") == [report]


# Around a street 3 km north of the test reports: other fine regions, the same coarse one.
FAR = (INSIDE[0] + 0.03, INSIDE[1])
# A place in town 1.2 km north, in the fine region beyond the next one.
ELSEWHERE = (50.7601, 6.4935)
TOWN = "6.4301,50.6912,6.5544,50.7903"  # the whole town on a desktop


def view_around(lat: float, lon: float) -> str:
    return widened(f"{lon - 0.0021},{lat - 0.00203},{lon + 0.0021},{lat + 0.00203}")


def test_a_box_depends_on_its_few_regions_or_on_every_write():
    street = view_regions(map_view(parse_bbox(view_around(*INSIDE))))
    assert 1 <= len(street) <= 4 and all(f":{REGION_LEVELS[0]}:" in name for name in street)
    assert set(street).isdisjoint(view_regions(map_view(parse_bbox(view_around(*FAR)))))
    town = view_regions(map_view(parse_bbox(TOWN)))
    assert 1 <= len(town) <= 16 and all(f":{REGION_LEVELS[-1]}:" in name for name in town)
    assert view_regions(map_view(parse_bbox("-180,-90,180,90"))) == [MAP_WIDE_GENERATION]


@pytest.mark.parametrize("workers", ["redis", "process"], indirect=True)
def test_a_clerks_change_renews_the_maps_of_its_place_only(
    workers,
    client,
    auth,
    form_post,
    make_report,
    staff,  # noqa: F811
):
    clerk_app, public_app = workers
    report = make_report(description="Loch", department_id=staff["tiefbau"])
    far = make_report(lat=FAR[0], lon=FAR[1], department_id=staff["tiefbau"])
    public = public_app.test_client()
    street, far_street = view_around(*INSIDE), view_around(*FAR)
    assert ids(public, street) == [report]
    assert ids(public, far_street) == [far]
    assert ids(public, TOWN) == sorted([report, far])
    # A write the generations do not see: a far map built again would lose the far pin.
    move_past_the_orm(public_app, far, FAR[0] + 0.03)

    auth.login("a@town.example")
    url = f"{BASE}/{report}"
    form_post(f"{url}/freigabe", {"description": "Loch", "hidden": "y"}, page=url)
    assert ids(public, street) == []
    assert ids(public, TOWN) == []  # built again (so without the far report, moved away)
    assert ids(public, far_street) == [far]  # kept: nothing changed there through the app

    form_post(f"{url}/freigabe", {"description": "Loch"}, page=url)
    form_post(f"{url}/status", {"status": "fixed", "public_note": "Geflickt."}, page=url)
    assert ids(public, street, "&status=fixed") == [report]
    assert ids(public, far_street) == [far]


@pytest.mark.parametrize("workers", ["redis", "process"], indirect=True)
def test_a_moved_pin_leaves_its_old_place_and_shows_at_its_new_one(
    workers,
    client,
    auth,
    form_post,
    make_report,
    staff,  # noqa: F811
):
    clerk_app, public_app = workers
    report = make_report(department_id=staff["tiefbau"])
    public = public_app.test_client()
    old_place, new_place = view_around(*INSIDE), view_around(*ELSEWHERE)
    assert set(view_regions(map_view(parse_bbox(old_place)))).isdisjoint(
        view_regions(map_view(parse_bbox(new_place)))
    )
    assert ids(public, old_place) == [report]
    assert ids(public, new_place) == []

    auth.login("a@town.example")
    url = f"{BASE}/{report}"
    form_post(f"{url}/ort", {"lat": str(ELSEWHERE[0]), "lon": str(ELSEWHERE[1])}, page=url)
    assert ids(public, old_place) == []
    assert ids(public, new_place) == [report]
    assert ids(clerk_app.test_client(), TOWN) == [report]


def test_a_written_report_bumps_the_regions_of_its_old_and_new_place(app, make_report):
    """The old place is still known after the flush, where the regions are named."""
    from lotse import cache
    from mangel.models import Report

    report_id = make_report()
    here, there, far = (
        view_regions(map_view(parse_bbox(view_around(*place))))
        for place in (INSIDE, ELSEWHERE, FAR)
    )
    names = [*here, *there, *far, MAP_WIDE_GENERATION, MAP_GENERATION]
    with app.app_context():
        before = cache.generations(names)
        db.session.get(Report, report_id).lat = ELSEWHERE[0]
        db.session.commit()
        after = cache.generations(names)
    bumped = {name for name, old, new in zip(names, before, after, strict=True) if new > old}
    assert bumped & set(here) and bumped & set(there)
    assert not bumped & set(far)
    assert MAP_WIDE_GENERATION in bumped and MAP_GENERATION not in bumped
