"""The public map and list (issue 22): unknown filters are refused in plain words, the list
follows the map's area, the legend names every status by colour and shape."""

from __future__ import annotations

import re

import pytest

from tests.mangel.conftest import INSIDE

pytestmark = pytest.mark.both_dbs

BOX = f"{INSIDE[1] - 0.002},{INSIDE[0] - 0.002},{INSIDE[1] + 0.002},{INSIDE[0] + 0.002}"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=bogus", "Diesen Status gibt es nicht. Möglich sind: offen, in Bearbeitung"),
        ("category=99999", "Diese Kategorie gibt es nicht."),
        ("category=abc", "Diese Kategorie gibt es nicht."),
        ("bbox=1,2,3", "Der Kartenausschnitt ist ungültig"),
    ],
)
def test_unknown_filter_values_are_refused_in_plain_german(client, categories, query, message):
    page = client.get(f"/maengel/?{query}")
    assert page.status_code == 400
    assert message in page.get_data(as_text=True)
    assert page.mimetype == "text/html"


def test_the_feed_refuses_unknown_filters_too(client, categories):
    response = client.get("/maengel/feed.atom?category=99999")
    assert response.status_code == 400
    assert "Diese Kategorie gibt es nicht." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("status=bogus", "status"), ("category=99999", "category"), ("category=x", "category")],
)
def test_the_map_endpoint_names_the_bad_parameter(client, categories, query, parameter):
    response = client.get(f"/maengel/karte.json?bbox={BOX}&{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == 400 and error["parameter"] == parameter and error["message"]


def test_known_filters_still_filter(client, categories, make_report):
    fixed = make_report(status="fixed")
    make_report()
    page = client.get(f"/maengel/?status=fixed&category={categories['pothole']}")
    assert page.status_code == 200
    assert re.findall(r'href="/maengel/(\d+)"', page.get_data(as_text=True)) == [str(fixed)]
    features = client.get(f"/maengel/karte.json?bbox={BOX}&status=fixed").get_json()["features"]
    assert [f["properties"]["id"] for f in features] == [fixed]


def test_the_list_follows_the_map_area(client, make_report):
    here = make_report()
    away = make_report(lat=INSIDE[0] + 0.01)
    whole = client.get("/maengel/").get_data(as_text=True)
    assert f'href="/maengel/{here}"' in whole and f'href="/maengel/{away}"' in whole
    fragment = client.get(f"/maengel/?teil=liste&bbox={BOX}")
    assert fragment.status_code == 200
    html = fragment.get_data(as_text=True)
    assert "<html" not in html  # only the list, for the map script to put in place
    assert f'href="/maengel/{here}"' in html and f'href="/maengel/{away}"' not in html
    assert fragment.headers["Cache-Control"] == "no-store"


def test_legend_and_list_show_each_status_by_colour_and_shape(client, make_report):
    make_report(status="in_progress")
    page = client.get("/maengel/").get_data(as_text=True)
    legend = re.search(r'<ul class="map-legend".*?</ul>', page, re.S).group(0)
    for label in ("offen", "in Bearbeitung", "wartet auf Dritte", "erledigt", "Duplikat"):
        assert label in legend
    shapes = re.findall(r'data-symbol="(\w+)"><svg[^>]*>(<\w+)', legend)
    assert dict(shapes)["open"] == "<circle" and dict(shapes)["in_progress"] == "<path"
    assert dict(shapes)["fixed"] == "<rect"
    # The map script copies these very symbols onto the pins.
    assert 'data-list-source="/maengel/"' in page
