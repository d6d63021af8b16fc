"""A citizen reports a pothole on the Kreisstraße outside the village (demo K 27) and is told,
before sending, that the Kreis will handle it and why; inside the Ortsdurchfahrt the town does."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import assert_accessible

POTHOLE = re.compile(r"^Straßenschaden/Schlagloch")


def to_details(page: Page, lat: str, lon: str) -> None:
    page.goto("/maengel/neu")
    page.get_by_label(POTHOLE).tap()
    page.get_by_role("button", name="Weiter zum Ort").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wo ist der Mangel?")
    page.get_by_label("Breitengrad (Nord)").fill(lat)
    page.get_by_label("Längengrad (Ost)").fill(lon)
    page.get_by_role("button", name="Weiter", exact=True).tap()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Wo ist der Mangel?")
    new = page.get_by_role("link", name="Nein, mein Anliegen ist neu – weiter")
    if new.count():  # a similar report nearby is offered first
        new.tap()


@pytest.mark.parametrize("viewport", ["phone"])
def test_citizen_on_a_kreisstrasse_sees_the_kreis_before_sending(page: Page, viewport: str, shoot):
    # The demo's K 27 runs from (50.7300, 6.470) to (50.7310, 6.520); a point 6 m beside it.
    to_details(page, "50,73055", "6,4950")
    expect(page.get_by_role("heading", level=1)).to_have_text("Beschreiben Sie den Mangel")
    note = page.get_by_role("note")
    expect(note).to_contain_text("Zuständig: Kreis Düren – Straßenbauamt")
    expect(note).to_contain_text("Kreisstraße K 27 (außerhalb der Ortsdurchfahrt)")
    assert_accessible(page)
    shoot("kreis")

    # In the village the K 27 is the town's own through-road: no such note.
    to_details(page, "50,74765", "6,4920")
    expect(page.get_by_role("heading", level=1)).to_have_text("Beschreiben Sie den Mangel")
    expect(page.get_by_role("note")).to_have_count(0)
