"""A clerk works a citizen's pothole report in the workbench: finds it in the inbox, accepts
it, releases the photo and closes it as "erledigt" with a public note; the citizen's
tracking page and the public map show the outcome."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from lotse.extensions import db
from mangel.models import Category
from tests.e2e.support import CLERK, assert_accessible
from tests.mailbox import Mailbox

# A spot of the demo town per viewport, away from the demo reports and from each other.
SPOT = {"phone": (50.7431, 6.4862), "desktop": (50.7502, 6.4968)}
NOTE = "Das Schlagloch ist verfüllt und die Fahrbahn ausgebessert."


def report_with_photo(
    page: Page, viewport: str, live_server, mailbox, folder: Path, text: str
) -> str:
    """The citizen sends and confirms a pothole report with a photo; returns the tracking URL."""
    from PIL import Image

    with live_server.app_context():
        pothole = db.session.scalar(
            select(Category.id).where(Category.name == "Straßenschaden/Schlagloch")
        )
    lat, lon = SPOT[viewport]
    page.goto(f"/maengel/neu/angaben?category={pothole}&lat={lat}&lon={lon}&new=1")
    photo = folder / "loch.jpg"
    Image.new("RGB", (800, 600), (70, 70, 75)).save(photo, format="JPEG")
    email = f"bearbeitet-{viewport}@example.org"
    page.get_by_label("Beschreibung").fill(text)
    page.get_by_label("Fotos (freiwillig, bis zu 3)").set_input_files(photo)
    page.get_by_label("Ihre E-Mail-Adresse").fill(email)
    page.get_by_label("Ich habe die Datenschutzerklärung gelesen").check()
    page.get_by_role("button", name="Meldung absenden").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bitte bestätigen Sie")
    link = next(u for u in Mailbox.links(mailbox.latest(to=email)) if "/bestaetigen/" in u)
    page.goto(link)
    page.get_by_role("button", name="Jetzt bestätigen").click()
    expect(page.locator(".facts")).to_contain_text("offen")
    return page.url


def test_clerk_closes_a_report_and_the_public_sees_it(
    page: Page, new_page, viewport: str, live_server, log_in, mailbox, shoot, tmp_path
):
    text = f"Journey{viewport.title()}: Schlagloch an der Einfahrt zum Parkplatz."
    tracking_url = report_with_photo(page, viewport, live_server, mailbox, tmp_path, text)
    number = re.search(r"Nr\. (\d+)", page.get_by_role("heading", level=1).inner_text())[1]
    expect(page.get_by_role("img", name=re.compile("^Foto 1"))).to_have_count(0)

    clerk = new_page(viewport)
    log_in(clerk, CLERK)
    clerk.get_by_role("link", name="Mängelmelder: Meldungen").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("Eingang der Meldungen")
    clerk.get_by_label("Suche (Text, Straße, Kategorie, Nummer)").fill(f"Journey{viewport.title()}")
    clerk.get_by_role("button", name="Filtern").click()
    found = clerk.get_by_role("table", name="Gefilterte Meldungen").get_by_role("row")
    expect(found).to_have_count(2)  # the header and our report
    expect(found.nth(1)).to_contain_text("offen")
    assert_accessible(clerk)
    shoot("inbox", clerk)

    found.nth(1).get_by_role("link", name=number, exact=True).click()
    expect(clerk.get_by_role("heading", level=1)).to_contain_text(f"Meldung Nr. {number}:")
    expect(clerk.get_by_label("Öffentliche Beschreibung")).to_have_value(text)
    assert_accessible(clerk)
    clerk.get_by_role("button", name="Meldung annehmen").click()
    expect(clerk.get_by_role("status")).to_have_text("Sie haben die Meldung angenommen.")
    expect(clerk.get_by_role("button", name="Meldung annehmen")).to_have_count(0)
    expect(clerk.locator(".facts")).to_contain_text("Toni Tiefbau")

    clerk.get_by_text("Freigabe und Moderation").click()  # folded below the daily actions
    clerk.get_by_label("Beschreibung freigeben").check()
    clerk.get_by_label("Fotos freigeben").check()
    clerk.get_by_role("button", name="Freigabe speichern").click()
    expect(clerk.get_by_role("status")).to_have_text("Die Freigabe ist gespeichert.")

    clerk.get_by_label("Neuer Status").select_option(label="erledigt")
    clerk.get_by_label("Öffentliche Notiz").fill(NOTE)
    clerk.get_by_role("button", name="Status speichern").click()
    expect(clerk.get_by_role("status")).to_have_text("Der Status ist geändert.")
    expect(clerk.locator(".facts")).to_contain_text("erledigt")
    clerk.get_by_text(re.compile(r"^Protokoll \(")).click()  # the log is folded
    expect(clerk.get_by_role("table", name="Protokoll aller Bearbeitungen")).to_contain_text(
        "offen → erledigt"
    )
    assert_accessible(clerk)
    shoot("worked", clerk)

    # The reporter hears of it by mail, and the private tracking page shows it.
    assert NOTE in Mailbox.text(mailbox.latest(to=f"bearbeitet-{viewport}@example.org"))
    page.goto(tracking_url)
    expect(page.locator(".facts")).to_contain_text("erledigt")
    expect(page.get_by_role("list").filter(has_text=NOTE)).to_be_visible()
    expect(page.get_by_role("img", name="Ihr Foto 1, vergrößern")).to_be_visible()
    assert_accessible(page)
    shoot("tracking")

    # The public map, filtered to finished reports, has a pin that leads to the report.
    page.goto("/maengel/?status=fixed")
    listed = page.get_by_role("link", name=re.compile(f"^Nr\\. {number}:"))
    expect(listed).to_be_visible()
    name = f"Meldung Nr. {number}: Straßenschaden/Schlagloch, erledigt"
    the_map = page.get_by_role("region", name=re.compile("^Karte der Meldungen"))
    pin = the_map.get_by_role("button", name=name)
    groups = the_map.get_by_role("button", name=re.compile("Meldungen – aktivieren zum"))
    expect(the_map.locator(".leaflet-marker-icon").first).to_be_visible()
    for _ in range(3):  # a pin close to another is drawn in a group: open it
        if pin.count() or not groups.count():
            break
        groups.first.tap() if viewport == "phone" else groups.first.click()
        page.wait_for_timeout(800)
    expect(pin).to_be_visible()
    assert_accessible(page)
    shoot("public-map")
    pin.tap() if viewport == "phone" else pin.click()
    page.locator(".leaflet-popup").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Meldung Nr. {number}: Straßenschaden/Schlagloch"
    )
    expect(page.locator(".facts")).to_contain_text("erledigt")
    expect(page.get_by_text(NOTE)).to_be_visible()
    expect(page.get_by_text(text)).to_be_visible()
    expect(page.get_by_role("img", name="Foto 1 zur Meldung, vergrößern")).to_be_visible()
    assert_accessible(page)
