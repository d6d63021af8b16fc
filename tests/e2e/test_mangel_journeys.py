"""Mängelmelder journeys: a citizen reports a pothole with the map and a photo, and
the same report again by keyboard only, with the address search instead of the map."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Locator, Page, expect

from tests.e2e.support import assert_accessible, assert_focus_visible, is_focused, tab_to
from tests.mailbox import Mailbox

POTHOLE = re.compile(r"^Straßenschaden/Schlagloch")
# A street per viewport, far from each other and from the pins of the map journey: a
# report nearby would be offered first to support ("Schon gemeldet?").
STREET = {"phone": "Talstraße", "desktop": "Lindenweg"}


def pothole_photo(folder: Path) -> Path:
    """A small JPEG, as a phone camera would hand it over."""
    path = folder / "schlagloch.jpg"
    Image.new("RGB", (640, 480), (90, 90, 95)).save(path, format="JPEG")
    return path


def test_citizen_reports_a_pothole_on_the_map(page: Page, viewport: str, mailbox, shoot, tmp_path):
    def press(target: Locator) -> None:
        """A finger on the phone, the mouse on the desktop."""
        target.tap() if viewport == "phone" else target.click()

    page.goto("/maengel/")
    press(page.get_by_role("link", name="Mangel melden", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("Was möchten Sie melden?")
    assert_accessible(page)
    press(page.get_by_label(POTHOLE))
    press(page.get_by_role("button", name="Weiter zum Ort"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Wo ist der Mangel?")
    the_map = page.get_by_role("application", name="Karte zum Setzen der Markierung")
    expect(the_map.locator(".leaflet-tile-loaded").first).to_be_visible()
    box = the_map.bounding_box()
    assert box is not None
    # Off the centre, where the start pin stands: a fresh spot of the demo town.
    spot = {"x": box["width"] * 0.3, "y": box["height"] * 0.7}
    the_map.tap(position=spot) if viewport == "phone" else the_map.click(position=spot)
    expect(page.get_by_role("status").filter(has_text="Markierung gesetzt.")).to_be_visible()
    expect(page.get_by_label("Breitengrad (Nord)")).to_have_value(re.compile(r"^50\.7\d+$"))
    assert_accessible(page)
    shoot("pin")
    press(page.get_by_role("button", name="Weiter", exact=True))

    expect(page.get_by_role("heading", level=1)).to_have_text("Beschreiben Sie den Mangel")
    page.get_by_label("Beschreibung").fill("Tiefes Schlagloch vor der Bäckerei, etwa 30 cm breit.")
    page.get_by_label("Fotos (freiwillig, bis zu 3)").set_input_files(pothole_photo(tmp_path))
    page.get_by_label("Ihre E-Mail-Adresse").fill(f"schlagloch-{viewport}@example.org")
    press(page.get_by_label("Ich habe die Datenschutzerklärung gelesen"))
    assert_accessible(page)
    shoot("details")
    press(page.get_by_role("button", name="Meldung absenden"))

    expect(page.get_by_role("heading", level=1)).to_contain_text("Bitte bestätigen Sie")
    assert_accessible(page)
    message = mailbox.latest(to=f"schlagloch-{viewport}@example.org")
    link = next(link for link in Mailbox.links(message) if "/bestaetigen/meldung/" in link)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Meldung bestätigen")
    assert_accessible(page)
    press(page.get_by_role("button", name="Jetzt bestätigen"))

    expect(page.get_by_role("heading", level=1)).to_contain_text("Straßenschaden/Schlagloch")
    expect(page.locator(".facts")).to_contain_text("offen")
    expect(page.get_by_text("Tiefes Schlagloch vor der Bäckerei")).to_be_visible()
    assert_accessible(page)
    shoot("tracking")


def keyboard_tab_to(page: Page, target: Locator) -> None:
    tab_to(page, target, max_presses=60)


def test_citizen_reports_by_keyboard_with_the_address_search(
    page: Page, viewport: str, mailbox, shoot
):
    keys = page.keyboard
    page.goto("/")
    keyboard_tab_to(page, page.get_by_role("link", name="Mangel melden oder ansehen"))
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mängelmelder")
    keyboard_tab_to(page, page.get_by_role("link", name="Mangel melden", exact=True))
    keys.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Was möchten Sie melden?")
    keyboard_tab_to(page, page.get_by_role("radio").first)
    keys.press("Space")
    expect(page.get_by_label(POTHOLE)).to_be_checked()
    keyboard_tab_to(page, page.get_by_role("button", name="Weiter zum Ort"))
    keys.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Wo ist der Mangel?")
    address = page.get_by_role("combobox", name="Adresse")
    keyboard_tab_to(page, address)
    keys.type(STREET[viewport][:6])
    expect(address).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("listbox", name="Adressvorschläge")).to_be_visible()
    keys.press("ArrowDown")
    keys.press("ArrowDown")
    option = page.get_by_role("option", selected=True)
    expect(option).to_have_text(re.compile(f"^{STREET[viewport]}"))
    expect(address).to_have_attribute("aria-activedescendant", re.compile("address-option-1"))
    chosen = option.inner_text()
    assert_accessible(page)
    shoot("address")
    keys.press("Enter")
    expect(address).to_have_value(chosen)
    expect(address).to_have_attribute("aria-expanded", "false")
    assert is_focused(address)
    assert_focus_visible(page)
    keyboard_tab_to(page, page.get_by_role("button", name="Weiter", exact=True))
    keys.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Beschreiben Sie den Mangel")
    keyboard_tab_to(page, page.get_by_label("Beschreibung"))
    keys.type("Schlagloch am Straßenrand, mit dem Rad kaum zu umfahren.")
    email = page.get_by_label("Ihre E-Mail-Adresse")
    keyboard_tab_to(page, email)
    keys.type(f"tastatur-{viewport}@example.org")
    keyboard_tab_to(page, page.get_by_role("button", name="Meldung absenden"))
    keys.press("Enter")

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Bitte stimmen Sie der Datenschutzerklärung zu.")
    expect(summary).to_be_focused()
    consent = page.get_by_label("Ich habe die Datenschutzerklärung gelesen")
    expect(consent).to_have_attribute("aria-invalid", "true")
    expect(consent).to_have_accessible_description(
        re.compile("Bitte stimmen Sie der Datenschutzerklärung zu.")
    )
    expect(page.get_by_text("Aus Sicherheitsgründen behält der Browser")).to_have_count(0)
    assert_accessible(page)
    shoot("errors")
    keyboard_tab_to(page, summary.get_by_role("link"))
    keys.press("Enter")
    expect(consent).to_be_focused()
    assert_focus_visible(page)
    keys.press("Space")
    expect(consent).to_be_checked()
    expect(page.get_by_label("Beschreibung")).to_have_value(
        re.compile("^Schlagloch am Straßenrand")
    )
    keyboard_tab_to(page, page.get_by_role("button", name="Meldung absenden"))
    keys.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_contain_text("Bitte bestätigen Sie")
    assert_accessible(page)
    shoot("sent")
    message = mailbox.latest(to=f"tastatur-{viewport}@example.org")
    link = next(link for link in Mailbox.links(message) if "/bestaetigen/meldung/" in link)
    page.goto(link)
    keyboard_tab_to(page, page.get_by_role("button", name="Jetzt bestätigen"))
    keys.press("Enter")
    expect(page.locator(".facts")).to_contain_text("offen")
    expect(page.locator(".facts")).to_contain_text(STREET[viewport])
