"""Road authorities: a pothole on a Kreisstraße outside the Ortsdurchfahrt goes to the Kreis.

Driven as an admin (upload the road layer, add the rule, ask "Wer ist zuständig?") and as a
citizen (the report form names who will handle it before sending; the Kreis gets the mail).
"""

from __future__ import annotations

import io
import json

import pytest
from pyproj import Transformer
from sqlalchemy import func, select

from lotse.extensions import db
from lotse.models import Department
from mangel.routing.roads import Road
from tests.mangel.conftest import link_in, sent_mails

pytestmark = pytest.mark.both_dbs

KREIS = "strassen@kreis.example"
# The K 27 runs west–east at 50.7480; its Ortsdurchfahrt is the part east of 6.4935.
RURAL = [[6.4850, 50.7480], [6.4935, 50.7480]]
TOWN = [[6.4935, 50.7480], [6.5000, 50.7480]]
NEAR_RURAL = (50.7481, 6.4900)  # about 11 m north of the rural part
NEAR_TOWN = (50.7481, 6.4960)  # as near, but in the Ortsdurchfahrt
FAR = (50.7489, 6.4900)  # about 100 m away


def layer(epsg: int | None = None) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"klasse": "K", "nummer": "K 27"},
            "geometry": {"type": "LineString", "coordinates": RURAL},
        },
        {
            "type": "Feature",
            "properties": {"klasse": "K", "nummer": "K 27", "ortsdurchfahrt": True},
            "geometry": {"type": "LineString", "coordinates": TOWN},
        },
    ]
    if epsg:
        to_utm = Transformer.from_crs(4326, epsg, always_xy=True).transform
        for feature in features:
            feature["geometry"]["coordinates"] = [
                list(to_utm(*c)) for c in feature["geometry"]["coordinates"]
            ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


@pytest.fixture
def admin(app, make_user, auth):
    make_user(email="admin@town.example", roles=("admin",))
    auth.login("admin@town.example")


@pytest.fixture
def kreis(app, categories):
    with app.app_context():
        department = Department(name="Kreis Düren", email=KREIS, is_external=True)
        db.session.add(department)
        db.session.commit()
        return department.id


def upload(form_post, data: bytes, epsg: str = ""):
    return form_post(
        "/verwaltung/maengel/zustaendigkeit/strassen/hochladen",
        {"file": (io.BytesIO(data), "strassen.geojson"), "epsg": epsg},
        page="/verwaltung/maengel/zustaendigkeit/strassen",
        content_type="multipart/form-data",
    )


def add_rule(form_post, categories, kreis):
    return form_post(
        "/verwaltung/maengel/zustaendigkeit/strassen/regeln",
        {
            "road_class": "K",
            "ortsdurchfahrt": "nein",
            "category_id": str(categories["main"]),
            "distance_m": "15",
            "department_id": str(kreis),
        },
        page="/verwaltung/maengel/zustaendigkeit/strassen",
    )


@pytest.mark.parametrize("epsg", [None, 25832])
def test_admin_sets_up_the_kreis_and_the_check_explains_it(
    app, client, form_post, categories, admin, kreis, epsg
):
    response = upload(form_post, layer(epsg), str(epsg or ""))
    assert response.status_code == 302
    assert "2 Straßenabschnitte übernommen" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert add_rule(form_post, categories, kreis).status_code == 302

    def check(point):
        url = (
            "/verwaltung/maengel/zustaendigkeit?category_id="
            f"{categories['pothole']}&lat={point[0]}&lon={point[1]}"
        )
        return client.get(url).get_data(as_text=True)

    outside = check(NEAR_RURAL)
    assert "Kreis Düren" in outside
    assert "Kreisstraße K 27 (außerhalb der Ortsdurchfahrt)" in outside
    inside = check(NEAR_TOWN)
    assert "Tiefbau" in inside and "Kreisstraße" not in inside
    assert "Tiefbau" in check(FAR)


def test_citizen_sees_the_kreis_before_sending_and_the_kreis_gets_it(
    app, client, form_post, submit, report_data, categories, admin, kreis
):
    upload(form_post, layer())
    add_rule(form_post, categories, kreis)
    client.post("/abmelden", data={})  # the citizen has no staff session
    citizen = app.test_client()
    url = (
        f"/maengel/neu/angaben?category={categories['light']}"
        f"&lat={NEAR_RURAL[0]}&lon={NEAR_RURAL[1]}&new=1"
    )
    page = citizen.get(url).get_data(as_text=True)
    assert "Zuständig: Kreis Düren" in page
    assert "Kreisstraße K 27 (außerhalb der Ortsdurchfahrt)" in page
    town_page = citizen.get(url.replace(str(NEAR_RURAL[1]), str(NEAR_TOWN[1]))).get_data(
        as_text=True
    )
    assert "Zuständig: Kreis" not in town_page

    assert submit(report_data(lat=str(NEAR_RURAL[0]), lon=str(NEAR_RURAL[1]))).status_code == 302
    path = link_in(sent_mails(app)[-1], "/bestaetigen/meldung/")
    form_post(path, {}, page=path)
    assert [m for m in sent_mails(app) if KREIS in str(m["To"])]
    assert not [m for m in sent_mails(app) if "tiefbau@town.example" in str(m["To"])]


@pytest.mark.parametrize(
    ("data", "epsg", "message"),
    [
        (b"{kein json", "", "kein gültiges GeoJSON"),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"klasse": "X", "nummer": "1"},
                            "geometry": {"type": "LineString", "coordinates": RURAL},
                        }
                    ],
                }
            ).encode(),
            "",
            "Klasse (A, B, L, K, G)",
        ),
        (layer(25832), "", "keine Längen und Breiten"),
        (layer(), "99999", "kennen wir nicht"),
    ],
)
def test_bad_road_layers_are_refused_and_nothing_is_stored(
    app, form_post, admin, data, epsg, message
):
    response = upload(form_post, data, epsg)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Road)) == 0
