"""The local tile server stands in for OpenStreetMap, so map journeys run offline."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page


@pytest.mark.parametrize("viewport", ["phone"])
def test_leaflet_draws_tiles_from_the_configured_tile_server(page: Page, live_server, tile_server):
    page.goto("/")
    assert live_server.app.config["TILE_URL"] == tile_server.tile_url
    # Leaflet as a feature's map page loads it; the CSP must allow the tile origin.
    page.add_style_tag(url="/static/vendor/leaflet/leaflet.css")
    page.add_script_tag(url="/static/vendor/leaflet/leaflet.js")
    served = tile_server.served
    page.evaluate(
        """(tileUrl) => new Promise((resolve) => {
          const div = document.createElement('div');
          div.className = 'map';
          document.querySelector('main').append(div);
          const map = L.map(div).setView([50.747, 6.491], 14);
          L.tileLayer(tileUrl).on('load', resolve).addTo(map);
        })""",
        tile_server.tile_url,
    )
    widths = page.eval_on_selector_all(".leaflet-tile", "tiles => tiles.map(t => t.naturalWidth)")
    assert widths and set(widths) == {256}
    assert tile_server.served > served
