"""The public map asks for its view widened to the server's cluster grid (issue 24): the
browser's arithmetic gives the same boxes as ``mangel.mapdata.map_view``, whatever the
screen, zoom and place, so phones looking at nearly the same place share answers."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from mangel.mapdata import map_view, parse_bbox

KARTE = re.compile(r"/maengel/karte\.json\?")
LIST = re.compile(r"/maengel/\?.*teil=liste")


def test_every_map_request_is_the_view_widened_as_the_server_does(page: Page):
    asked: dict[str, list[str]] = {"map": [], "list": []}

    def record(request) -> None:
        for name, pattern in (("map", KARTE), ("list", LIST)):
            if pattern.search(request.url):
                asked[name].append(parse_qs(urlparse(request.url).query)["bbox"][0])

    page.on("request", record)
    page.goto("/maengel/")
    expect(page.locator(".leaflet-marker-icon").first).to_be_visible()
    the_map = page.get_by_role("region", name=re.compile("^Karte der Meldungen"))
    the_map.focus()
    for key in ("+", "ArrowRight", "+", "ArrowDown", "+", "ArrowLeft", "-", "ArrowUp", "-"):
        with page.expect_request(LIST):
            page.keyboard.press(key)
        page.wait_for_timeout(350)  # Leaflet's zoom animation ends before the next key
    assert len(asked["map"]) == len(asked["list"]) >= 10
    # The list asks for the visible area as Leaflet gives it; the map for it widened.
    for visible, box in zip(asked["list"], asked["map"], strict=True):
        assert re.fullmatch(r"(-?\d+\.\d{4},){3}-?\d+\.\d{4}", box), box
        assert map_view(parse_bbox(visible)).key == box
        west, south, east, north = parse_bbox(visible)
        w, s, e, n = parse_bbox(box)
        assert w <= west and s <= south and e >= east and n >= north
    assert len(set(asked["map"])) > 3  # zooming in and out asked for other boxes
