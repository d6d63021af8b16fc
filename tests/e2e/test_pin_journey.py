"""Step 2 of a report: the untouched start pin is refused with a message saying so, while a
point typed at the map's start point (the form's own example) is taken like any other."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import assert_accessible

POTHOLE = "Straßenschaden/Schlagloch"


@pytest.mark.parametrize("viewport", ["desktop"])
def test_untouched_pin_is_refused_typed_centre_is_taken(page: Page, viewport: str, shoot):
    page.goto("/maengel/neu")
    page.get_by_label(POTHOLE).click()
    page.get_by_role("button", name="Weiter zum Ort").click()
    the_map = page.get_by_role("application", name="Karte zum Setzen der Markierung")
    expect(the_map.locator(".leaflet-tile-loaded").first).to_be_visible()

    page.get_by_role("button", name="Weiter", exact=True).click()
    expect(
        page.get_by_text("die Markierung steht noch am Startpunkt der Karte").first
    ).to_be_visible()
    assert_accessible(page)
    shoot("untouched")

    page.get_by_label("Breitengrad (Nord)").fill("50,747")
    page.get_by_label("Längengrad (Ost)").fill("6,491")
    page.get_by_role("button", name="Weiter", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Beschreiben Sie den Mangel")
    shoot("typed-centre")
