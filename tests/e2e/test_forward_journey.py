"""A clerk of Tiefbau forwards a citizen's report to Bauhof/Winterdienst: Bauhof's inbox gets
the report by mail, the clerk lands on a page that exists and says so, the citizen is told
and their tracking page names the new department."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from lotse.extensions import db
from mangel.models import Category
from tests.e2e.support import CLERK, assert_accessible
from tests.mailbox import Mailbox

# A spot of the demo town per viewport, away from the demo reports and the other journeys.
SPOT = {"phone": (50.7455, 6.4880), "desktop": (50.7478, 6.4990)}
BAUHOF = "bauhof@musterstadt.example"
TIEFBAU = "tiefbau@musterstadt.example"


def citizen_reports(page: Page, viewport: str, live_server, mailbox, text: str) -> str:
    """The citizen sends and confirms a pothole report; returns the tracking URL."""
    with live_server.app_context():
        pothole = db.session.scalar(
            select(Category.id).where(Category.name == "Straßenschaden/Schlagloch")
        )
    lat, lon = SPOT[viewport]
    page.goto(f"/maengel/neu/angaben?category={pothole}&lat={lat}&lon={lon}&new=1")
    email = f"weiter-{viewport}@example.org"
    page.get_by_label("Beschreibung").fill(text)
    page.get_by_label("Ihre E-Mail-Adresse").fill(email)
    page.get_by_label("Ich habe die Datenschutzerklärung gelesen").check()
    page.get_by_role("button", name="Meldung absenden").click()
    link = next(u for u in Mailbox.links(mailbox.latest(to=email)) if "/bestaetigen/" in u)
    page.goto(link)
    page.get_by_role("button", name="Jetzt bestätigen").click()
    expect(page.locator(".facts")).to_contain_text("Tiefbau")
    return page.url


def test_clerk_forwards_a_report_to_the_department_responsible(
    page: Page, new_page, viewport: str, live_server, log_in, mailbox, shoot
):
    text = f"Weiter{viewport.title()}: Glatteis auf dem Radweg an der Brücke."
    tracking_url = citizen_reports(page, viewport, live_server, mailbox, text)
    number = re.search(r"Nr\. (\d+)", page.get_by_role("heading", level=1).inner_text())[1]
    assert f"Meldung Nr. {number}:" in str(mailbox.latest(to=TIEFBAU)["Subject"])

    clerk = new_page(viewport)
    log_in(clerk, CLERK)
    clerk.goto(f"/verwaltung/maengel/meldungen/{number}")
    expect(clerk.get_by_role("heading", level=1)).to_contain_text(f"Meldung Nr. {number}:")
    clerk.get_by_label("Abteilung", exact=True).select_option(label="Bauhof/Winterdienst")
    seen = len(mailbox.messages())
    clerk.get_by_role("button", name="Weiterleiten").click()

    # The clerk lands on their inbox, which exists, with the confirmation.
    expect(clerk.get_by_role("heading", level=1)).to_have_text("Eingang der Meldungen")
    expect(clerk.get_by_role("status")).to_have_text(
        "Die Meldung ist an Bauhof/Winterdienst weitergeleitet."
    )
    assert_accessible(clerk)
    shoot("clerk-after-forward", clerk)

    # Bauhof gets the report; the citizen is told; nobody else hears of it.
    to_bauhof = mailbox.latest(to=BAUHOF)
    assert f"Meldung Nr. {number}: Straßen und Wege – Straßenschaden/Schlagloch" in str(
        to_bauhof["Subject"]
    )
    assert "Anlass: weitergeleitet" in Mailbox.text(to_bauhof)
    told = mailbox.latest(to=f"weiter-{viewport}@example.org")
    assert "an Bauhof/Winterdienst weitergeleitet" in " ".join(Mailbox.text(told).split())
    new = mailbox.messages()[seen:]
    assert sorted(str(m["To"]) for m in new) == sorted([BAUHOF, f"weiter-{viewport}@example.org"])

    page.goto(tracking_url)
    expect(page.locator(".facts")).to_contain_text("Bauhof/Winterdienst")
    assert_accessible(page)
    shoot("tracking")
