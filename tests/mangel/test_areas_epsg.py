"""Areas from a municipal GIS in any EPSG (issue 22): UTM 32N as exported by default, named
in the file or chosen on upload; a map of the areas with the table beside it."""

from __future__ import annotations

import io
import json

import pytest
from pyproj import Transformer

from tests.mangel.conftest import INSIDE
from tests.mangel.test_areas_admin import BASE, admin, area_ids, check  # noqa: F401

pytestmark = pytest.mark.both_dbs


def utm_square(name: str, lat: float, lon: float, half_m: float = 150.0) -> dict:
    """A square around a point, in ETRS89 / UTM 32N metres (EPSG:25832)."""
    x, y = Transformer.from_crs(4326, 25832, always_xy=True).transform(lon, lat)
    ring = [
        [x - half_m, y - half_m],
        [x + half_m, y - half_m],
        [x + half_m, y + half_m],
        [x - half_m, y + half_m],
        [x - half_m, y - half_m],
    ]
    return {
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def utm_file(crs: str | None = "urn:ogc:def:crs:EPSG::25832") -> bytes:
    data = {"type": "FeatureCollection", "features": [utm_square("Altstadt", *INSIDE)]}
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(data).encode()


def upload(form_post, content: bytes, epsg: str = ""):
    return form_post(
        f"{BASE}/gebiete/hochladen",
        {"file": (io.BytesIO(content), "ortsteile.geojson"), "name_property": "name", "epsg": epsg},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("content", "epsg"),
    [
        (utm_file(), ""),  # the file names its system
        (utm_file(crs=None), "25832"),  # the admin names it
        (utm_file(crs=None), "EPSG:25832"),
    ],
)
def test_utm_areas_land_where_they_are(app, client, admin, form_post, content, epsg):  # noqa: F811
    from lotse.extensions import db
    from mangel.routing.models import Area

    response = upload(form_post, content, epsg)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        area = db.session.scalars(db.select(Area)).one()
        assert area.min_lat < INSIDE[0] < area.max_lat and area.min_lon < INSIDE[1] < area.max_lon
        assert area.max_lat - area.min_lat < 0.01  # about 300 m, in degrees now


def test_utm_without_a_named_system_is_refused_with_a_hint(app, admin, form_post):  # noqa: F811
    response = upload(form_post, utm_file(crs=None))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "keine Längen- und Breitengrade" in html and "EPSG:25832" in html
    assert area_ids(app) == {}


@pytest.mark.parametrize(
    ("epsg", "message"),
    [("99999", "EPSG:99999 kennen wir nicht"), ("UTM", "als Zahl an, zum Beispiel 25832")],
)
def test_unknown_system_is_named_next_to_its_field(app, admin, form_post, epsg, message):  # noqa: F811
    response = upload(form_post, utm_file(crs=None), epsg)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="epsg-error"' in html and message in html
    assert f'value="{epsg}"' in html
    assert area_ids(app) == {}


def test_areas_on_a_map_with_the_table_as_the_way_without(client, admin, form_post):  # noqa: F811
    upload(form_post, utm_file())
    html = client.get(BASE).get_data(as_text=True)
    assert 'class="map area-map"' in html and "data-areas=" in html
    assert "Altstadt" in html.split("data-areas=")[1].split("role=")[0]
    assert "js/areas-map.js" in html
    table = html.split('<caption class="visually-hidden">Zuständigkeitsgebiete</caption>')[1]
    assert "Altstadt" in table and "50,7" in table  # the list names each area and where


def test_cli_imports_utm_with_epsg(app, runner, tmp_path):
    path = tmp_path / "ortsteile.geojson"
    path.write_bytes(utm_file(crs=None))
    result = runner.invoke(args=["lotse", "import-areas", str(path), "--epsg", "25832"])
    assert result.exit_code == 0, result.output
    assert list(area_ids(app)) == ["Altstadt"]
