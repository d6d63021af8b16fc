"""The maps by keyboard (issue 21): Tab walks the public map's named markers and then leaves
for the list (no loop), "Karte überspringen" jumps past them, and the place picker's pin
moves with the arrow keys and says where it stands."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.support import assert_accessible, assert_focus_visible, is_focused, tab_to

MARKER_NAME = re.compile(r"^Meldung Nr\. \d+: [^,]+, (offen|in Bearbeitung|erledigt|.+)$")
GROUP_NAME = re.compile(r"^\d+ Meldungen – aktivieren zum Vergrößern$")
MAX_TABS = 80  # header, filters, zoom buttons, ≤ 36 demo pins or groups, attribution, list


def markers(page: Page):
    return page.locator(".leaflet-marker-icon")


def test_tab_walks_the_markers_and_reaches_the_list(page: Page, shoot):
    page.goto("/maengel/")
    the_map = page.get_by_role("region", name=re.compile("^Karte der Meldungen"))
    expect(markers(page).first).to_be_visible()
    expect(the_map.get_by_role("button", name="Karte vergrößern")).to_be_visible()
    expect(the_map.get_by_role("button", name="Karte verkleinern")).to_be_visible()
    names = [m.get_attribute("aria-label") or m.get_attribute("alt") for m in markers(page).all()]
    assert names and all(MARKER_NAME.match(n) or GROUP_NAME.match(n) for n in names), names
    assert any(MARKER_NAME.match(n) for n in names), names

    # No two markers overlap: every one is a target of its own (at least 24 × 24 px).
    boxes = [m.bounding_box() for m in markers(page).all()]
    assert all(b["width"] >= 24 and b["height"] >= 24 for b in boxes)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"]
                or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"]
                or b["y"] + b["height"] <= a["y"]
            )
            assert apart, f"markers overlap: {a} {b}"

    first_pin = the_map.get_by_role("button", name=MARKER_NAME).first
    tab_to(page, first_pin, max_presses=MAX_TABS)
    centre = page.evaluate("() => document.querySelector('.leaflet-map-pane').style.transform")
    page.wait_for_timeout(600)  # a pan on focus would reload and rebuild the markers now
    assert is_focused(first_pin), "the focused marker was rebuilt"
    assert (
        page.evaluate("() => document.querySelector('.leaflet-map-pane').style.transform") == centre
    )
    assert_focus_visible(page)
    shoot("focused-marker")

    passed = tab_to(page, page.locator(".report-list a").first, max_presses=MAX_TABS)
    assert not any("Karte vergrößern" in stop for stop in passed), "Tab went round the map again"
    assert_accessible(page)


def test_skip_link_jumps_past_the_map(page: Page):
    page.goto("/maengel/")
    expect(markers(page).first).to_be_visible()
    skip = page.get_by_role("link", name="Karte überspringen")
    passed = tab_to(page, skip, max_presses=20)
    assert len(passed) <= 20
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(".report-list a").first).to_be_focused()


def test_a_pan_keeps_the_markers_that_stay_in_view(page: Page):
    page.goto("/maengel/")
    expect(markers(page).first).to_be_visible()
    page.evaluate(
        "() => document.querySelectorAll('.leaflet-marker-icon').forEach(m => m.dataset.kept = '1')"
    )
    before = markers(page).count()
    the_map = page.get_by_role("region", name=re.compile("^Karte der Meldungen"))
    the_map.focus()
    with page.expect_response(re.compile(r"/maengel/karte\.json\?bbox=")):
        page.keyboard.press("ArrowRight")  # Leaflet pans a little; the pins are loaded again
    page.wait_for_timeout(300)  # and drawn
    kept = page.locator(".leaflet-marker-icon[data-kept]").count()
    assert kept >= before - 3, f"{before - kept} of {before} markers were rebuilt on a small pan"


def test_place_picker_by_keyboard(page: Page, shoot):
    page.goto("/maengel/neu")
    page.get_by_role("radio").first.check()
    page.get_by_role("button", name="Weiter zum Ort").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wo ist der Mangel?")
    help_text = page.locator("#map-help")
    expect(help_text).to_contain_text("Pfeiltasten")
    the_map = page.get_by_role("application", name="Karte zum Setzen der Markierung")
    expect(the_map.locator(".leaflet-tile-loaded").first).to_be_visible()
    assert the_map.locator(".leaflet-marker-icon[tabindex]").count() == 0, "the pin is a tab stop"
    expect(the_map).to_have_accessible_description(re.compile("Pfeiltasten"))

    tab_to(page, the_map, max_presses=40)
    for key in ("ArrowRight", "ArrowRight", "Shift+ArrowDown"):
        page.keyboard.press(key)
    status = page.get_by_role("status").filter(has_text="Markierung gesetzt.")
    expect(status).to_contain_text(re.compile(r"Breitengrad 50,7\d*, Längengrad 6,4\d*"))
    lat = page.get_by_label("Breitengrad (Nord)")
    expect(lat).to_have_value(re.compile(r"^50\.7\d+$"))
    first_lat = float(lat.input_value())
    page.keyboard.press("ArrowUp")
    expect(lat).not_to_have_value(str(first_lat))
    assert float(lat.input_value()) > first_lat  # up is north
    assert is_focused(the_map)
    assert_accessible(page)
    shoot("picker")

    page.keyboard.press("Tab")  # out of the map: its zoom buttons, not the pin
    assert (
        page.evaluate("() => document.activeElement.classList.contains('leaflet-marker-icon')")
        is False
    )


def test_address_combobox_opens_on_arrow_down_and_says_the_place_is_set(page: Page):
    page.goto("/maengel/neu")
    page.get_by_role("radio").first.check()
    page.get_by_role("button", name="Weiter zum Ort").click()
    address = page.get_by_role("combobox", name="Adresse")
    address.fill("Haupt")
    expect(address).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(address).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowDown")
    expect(address).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    chosen = page.get_by_role("option", selected=True).inner_text()
    page.keyboard.press("Enter")
    expect(page.locator("[data-combobox-status]")).to_have_text(f"Ort gesetzt: {chosen}")
