"""Admins keep Zuständigkeitsgebiete and routing rules, and check who is responsible."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from lotse.extensions import db
from lotse.models import Department
from tests.mangel.conftest import INSIDE

pytestmark = pytest.mark.both_dbs

BASE = "/verwaltung/maengel/zustaendigkeit"
ELSEWHERE = (INSIDE[0] + 0.01, INSIDE[1])


def square(name: str | None, lat: float, lon: float, half: float = 0.002, **props) -> dict:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {
        "type": "Feature",
        "properties": {"name": name, **props} if name else props,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def collection(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


@pytest.fixture
def admin(make_user, auth):
    make_user(email="admin@town.example", roles=("admin",))
    auth.login("admin@town.example")


@pytest.fixture
def upload(form_post):
    def post(content: bytes, name_property: str = "name", filename: str = "gebiete.geojson"):
        return form_post(
            f"{BASE}/gebiete/hochladen",
            {"file": (io.BytesIO(content), filename), "name_property": name_property},
            content_type="multipart/form-data",
        )

    return post


@pytest.fixture
def departments(app) -> dict[str, int]:
    with app.app_context():
        deps = {
            "kreis": Department(name="Landkreis", email="kreis@kreis.example", is_external=True),
            "bauhof": Department(name="Bauhof Nord", email="bauhof@town.example"),
        }
        db.session.add_all(deps.values())
        db.session.commit()
        return {key: dep.id for key, dep in deps.items()}


def area_ids(app) -> dict[str, int]:
    from mangel.routing.models import Area

    with app.app_context():
        return dict(db.session.execute(select(Area.name, Area.id)).all())


def rules(app) -> list[tuple]:
    from mangel.routing.models import RoutingRule

    with app.app_context():
        return sorted(
            db.session.execute(
                select(RoutingRule.category_id, RoutingRule.area_id, RoutingRule.department_id)
            ).all(),
            key=str,
        )


def check(client, category_id: int, point: tuple[float, float]) -> str:
    lat, lon = (str(v).replace(".", ",") for v in point)
    response = client.get(BASE, query_string={"category_id": category_id, "lat": lat, "lon": lon})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_upload_adds_areas_and_replaces_those_of_the_same_name(app, client, admin, upload):
    response = upload(collection(square("Kreisstraße 12", *INSIDE), square("Drove", *ELSEWHERE)))
    assert response.status_code == 302
    page = client.get(BASE).get_data(as_text=True)
    assert "2 Gebiete übernommen: 2 neu, 0 ersetzt." in page
    assert "Kreisstraße 12" in page and "Drove" in page
    before = area_ids(app)

    moved = (INSIDE[0] + 0.05, INSIDE[1])
    response = upload(collection(square("Drove", *moved, half=0.01)))
    assert "1 Gebiete übernommen: 0 neu, 1 ersetzt." in client.get(BASE).get_data(as_text=True)
    assert area_ids(app) == before
    from mangel.routing.models import Area

    with app.app_context():
        drove = db.session.get(Area, before["Drove"])
        assert drove.min_lat == pytest.approx(moved[0] - 0.01)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{kaputt", "kein gültiges GeoJSON (Fehler in Zeile 1)"),
        (b'{"type": "Topology"}', "kein GeoJSON mit Flächen"),
        (collection(), "enthält keine Gebiete"),
        (
            collection(
                square("Ort", *INSIDE),
                {
                    "type": "Feature",
                    "properties": {"name": "Mast"},
                    "geometry": {"type": "Point", "coordinates": [6.49, 50.74]},
                },
            ),
            "Objekt 2 ist kein Gebiet (Point)",
        ),
        (collection(square(None, *INSIDE, gemeinde="X")), "keine Eigenschaft „kreis“"),
        (collection(square("UTM", 5623000.0, 318000.0)), "WGS 84 (EPSG:4326)"),
        (
            collection(
                {
                    "type": "Feature",
                    "properties": {"name": "Acht"},
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [
                                [6.49, 50.74],
                                [6.50, 50.75],
                                [6.50, 50.74],
                                [6.49, 50.75],
                                [6.49, 50.74],
                            ]
                        ],
                    },
                },
            ),
            "keine gültige Fläche",
        ),
        (collection(square("Ort", *INSIDE), square("Ort", *ELSEWHERE)), "„Ort“ kommt mehrfach"),
        ("ÄÖÜ".encode("latin-1"), "nicht UTF-8"),
    ],
)
def test_a_bad_file_is_refused_in_german_and_nothing_is_stored(
    app, client, admin, upload, content, message
):
    # The first feature of a file is fine: a refusal must not store part of it.
    name_property = "kreis" if "kreis" in message else "name"
    response = upload(content, name_property=name_property)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'id="file-error"' in html and 'aria-invalid="true"' in html
    assert f'value="{name_property}"' in html
    assert area_ids(app) == {}


def test_upload_without_a_file_asks_for_one(app, client, admin, form_post):
    response = form_post(f"{BASE}/gebiete/hochladen", {"name_property": "name"})
    assert response.status_code == 422
    assert "Bitte wählen Sie eine GeoJSON-Datei aus." in response.get_data(as_text=True)


def test_area_page_renames_replaces_the_shape_and_keeps_its_rules(
    app, client, admin, upload, form_post, categories, departments
):
    upload(collection(square("Kreisstraße 12", *INSIDE), square("Drove", *ELSEWHERE)))
    ids = area_ids(app)
    form_post(
        f"{BASE}/regeln/neu",
        {
            "category_id": categories["light"],
            "area_id": ids["Kreisstraße 12"],
            "department_id": departments["kreis"],
        },
    )
    url = f"{BASE}/gebiete/{ids['Kreisstraße 12']}"
    assert "Straßen und Wege – Straßenbeleuchtung defekt" in client.get(url).get_data(as_text=True)

    response = form_post(url, {"name": "Drove"})
    assert response.status_code == 422
    assert "Ein anderes Gebiet heißt schon so." in response.get_data(as_text=True)
    response = form_post(
        url,
        {"name": "K 12", "file": (io.BytesIO(collection(square(None, *ELSEWHERE))), "neu.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert area_ids(app) == {"K 12": ids["Kreisstraße 12"], "Drove": ids["Drove"]}
    assert "Landkreis" in check(client, categories["light"], ELSEWHERE)
    assert "Tiefbau" in check(client, categories["light"], INSIDE)

    response = form_post(
        url,
        {"name": "K 12", "file": (io.BytesIO(b'{"type": "Point"}'), "neu.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Landkreis" in check(client, categories["light"], ELSEWHERE)


def test_deleting_an_area_deletes_its_rules(
    app, client, admin, upload, form_post, categories, departments
):
    upload(collection(square("Kreisstraße 12", *INSIDE)))
    area_id = area_ids(app)["Kreisstraße 12"]
    form_post(
        f"{BASE}/regeln/neu",
        {"category_id": 0, "area_id": area_id, "department_id": departments["bauhof"]},
    )
    assert len(rules(app)) == 1
    url = f"{BASE}/gebiete/{area_id}/loeschen"
    assert client.post(url).status_code == 400  # no CSRF token
    assert area_ids(app) == {"Kreisstraße 12": area_id}
    response = form_post(url, page=BASE)
    assert response.status_code == 302
    assert area_ids(app) == {} and rules(app) == []
    assert "und 1 Regeln darin sind gelöscht" in client.get(BASE).get_data(as_text=True)


def test_rules_are_created_checked_changed_and_deleted(
    app, client, admin, upload, form_post, categories, departments
):
    upload(collection(square("Kreisstraße 12", *INSIDE)))
    area = area_ids(app)["Kreisstraße 12"]
    new = f"{BASE}/regeln/neu"
    for data in (
        {
            "category_id": categories["light"],
            "area_id": area,
            "department_id": departments["kreis"],
        },
        {"category_id": 0, "area_id": area, "department_id": departments["bauhof"]},
        {"category_id": categories["main"], "area_id": 0, "department_id": departments["bauhof"]},
    ):
        assert form_post(new, data).status_code == 302

    response = form_post(
        new, {"category_id": 0, "area_id": 0, "department_id": departments["kreis"]}
    )
    assert response.status_code == 422
    assert "Bitte wählen Sie eine Kategorie, ein Gebiet oder beides." in response.get_data(
        as_text=True
    )
    response = form_post(new, {"category_id": 0, "area_id": area, "department_id": 0})
    html = response.get_data(as_text=True)
    assert "Für diese Kategorie und dieses Gebiet gibt es schon eine Regel." in html
    assert "Bitte wählen Sie den zuständigen Fachbereich." in html
    assert len(rules(app)) == 3

    from mangel.routing.models import RoutingRule

    with app.app_context():
        main_rule = db.session.scalar(
            select(RoutingRule.id).where(RoutingRule.category_id == categories["main"])
        )
    edit = f"{BASE}/regeln/{main_rule}"
    assert f'<option selected value="{categories["main"]}">' in client.get(edit).get_data(
        as_text=True
    )
    response = form_post(
        edit,
        {"category_id": categories["pothole"], "area_id": 0, "department_id": departments["kreis"]},
    )
    assert response.status_code == 302
    assert (categories["pothole"], None, departments["kreis"]) in rules(app)

    url = f"{BASE}/regeln/{main_rule}/loeschen"
    assert client.post(url).status_code == 400
    assert form_post(url, page=BASE).status_code == 302
    assert len(rules(app)) == 2


def test_check_shows_which_department_and_which_rule_wins(
    app, client, admin, upload, form_post, categories, departments
):
    upload(collection(square("Kreisstraße 12", *INSIDE, half=0.001), square("Nord", *INSIDE)))
    ids = area_ids(app)
    for data in (
        {
            "category_id": categories["light"],
            "area_id": ids["Kreisstraße 12"],
            "department_id": departments["kreis"],
        },
        {"category_id": 0, "area_id": ids["Nord"], "department_id": departments["bauhof"]},
    ):
        assert form_post(f"{BASE}/regeln/neu", data).status_code == 302

    html = check(client, categories["light"], INSIDE)
    assert "Landkreis" in html and "Straßenbeleuchtung defekt – Kreisstraße 12" in html
    assert "kreis@kreis.example" in html
    # The area-only rule covers the other categories in Nord …
    html = check(client, categories["pothole"], INSIDE)
    assert "Bauhof Nord" in html and "alle Kategorien – Nord" in html
    # … and outside every area the category's own department answers.
    html = check(client, categories["light"], ELSEWHERE)
    assert "Tiefbau" in html and "Fachbereich der Kategorie" in html

    response = client.get(
        BASE, query_string={"category_id": categories["light"], "lat": "abc", "lon": "6,49"}
    )
    html = response.get_data(as_text=True)
    assert "Bitte geben Sie einen Breitengrad zwischen -90 und 90 ein." in html
    assert 'value="abc"' in html and "Zuständig:" not in html


def test_category_rule_beats_an_area_only_rule_and_a_rule_for_the_main_category(
    app, client, admin, upload, form_post, categories, departments
):
    upload(collection(square("Nord", *INSIDE)))
    for data in (
        {
            "category_id": 0,
            "area_id": area_ids(app)["Nord"],
            "department_id": departments["bauhof"],
        },
        {"category_id": categories["main"], "area_id": 0, "department_id": departments["bauhof"]},
        {"category_id": categories["light"], "area_id": 0, "department_id": departments["kreis"]},
    ):
        assert form_post(f"{BASE}/regeln/neu", data).status_code == 302
    html = check(client, categories["light"], INSIDE)
    assert "Landkreis" in html and "Straßenbeleuchtung defekt – überall" in html
    html = check(client, categories["pothole"], INSIDE)
    assert "Bauhof Nord" in html and "Straßen und Wege – überall" in html


def test_only_admins_reach_responsibility(app, client, make_user, auth, form_post, categories):
    make_user()
    anonymous = client.get(BASE)
    assert anonymous.status_code == 302 and "/anmelden" in anonymous.headers["Location"]
    auth.login()
    for url in (BASE, f"{BASE}/gebiete/hochladen", f"{BASE}/regeln/neu"):
        assert client.get(url).status_code == 403
    for url in (f"{BASE}/gebiete/hochladen", f"{BASE}/regeln/neu", f"{BASE}/regeln/1/loeschen"):
        # With a valid token (from a page a clerk may see), so the role check answers.
        assert form_post(url, page="/verwaltung/").status_code == 403
    assert "Zuständigkeit" not in client.get("/verwaltung/").get_data(as_text=True)


def test_admin_finds_responsibility_on_the_staff_page_and_uploads_need_a_token(app, client, admin):
    assert f'href="{BASE}"' in client.get("/verwaltung/").get_data(as_text=True)
    response = client.post(
        f"{BASE}/gebiete/hochladen",
        data={"file": (io.BytesIO(collection(square("Ort", *INSIDE))), "a.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert area_ids(app) == {}


def test_cli_import_reports_new_and_replaced_and_refuses_bad_files(app, runner, tmp_path):
    path = tmp_path / "gebiete.geojson"
    path.write_bytes(collection(square("Ort", *INSIDE)))
    assert (
        "1 Gebiete importiert (1 neu, 0 ersetzt)"
        in runner.invoke(args=["lotse", "import-areas", str(path)]).output
    )
    path.write_bytes(collection(square("Ort", *INSIDE), square(None, *ELSEWHERE)))
    result = runner.invoke(args=["lotse", "import-areas", str(path)])
    assert result.exit_code != 0 and "Objekt 2 hat keine Eigenschaft „name“" in result.output
    assert list(area_ids(app)) == ["Ort"]
