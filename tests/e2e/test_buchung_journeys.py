"""Booking journeys: a guest books the Gymnastikhalle from the week grid; the office decides."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import BOOKING_OFFICE, assert_accessible
from tests.mailbox import Mailbox


def test_guest_books_a_free_slot_and_confirms_by_mail(page: Page, mailbox, shoot):
    page.goto("/buchung/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Räume und Hallen buchen")
    assert_accessible(page)
    page.get_by_role("link", name="Gymnastikhalle").click()
    page.get_by_role("link", name=re.compile("Nächste Woche")).click()
    expect(page.get_by_role("table")).to_be_visible()
    assert_accessible(page)
    shoot("week")

    page.get_by_role("link", name=re.compile("^frei")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gymnastikhalle buchen")
    page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page.get_by_role("alert")).to_contain_text("Bitte geben Sie den Zweck an.")
    assert_accessible(page)
    shoot("errors")

    page.get_by_label("Zweck").fill("Tanzprobe")
    page.get_by_label("Anzahl Personen").fill("12")
    page.get_by_label("Privat").check()
    page.get_by_label("Ihr Name").fill("Tina Tanz")
    page.get_by_label("E-Mail-Adresse").fill("tina@example.org")
    page.get_by_label("Telefon").fill("0151 123")
    page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("bitte E-Mail bestätigen")

    message = mailbox.latest(to="tina@example.org")
    link = next(link for link in Mailbox.links(message) if "/buchung/b/" in link)
    page.goto(link)
    page.get_by_role("button", name="Buchung bestätigen").click()
    expect(page.get_by_text("Danke, Ihre E-Mail-Adresse ist bestätigt.")).to_be_visible()
    expect(page.get_by_text("bestätigt", exact=True)).to_be_visible()
    assert_accessible(page)
    shoot("confirmed")
    assert mailbox.latest(to="tina@example.org")["Subject"] == "Ihre Buchung ist bestätigt"


@pytest.mark.parametrize("viewport", ["desktop"])  # the demo holds one request to decide
def test_booking_office_decides_a_request(page: Page, log_in, shoot):
    log_in(page, BOOKING_OFFICE)
    page.get_by_role("link", name="Hallen- und Raumbuchung").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hallen- und Raumbuchung")
    assert_accessible(page)
    page.get_by_role("link", name="Kalender").click()
    expect(page.get_by_role("table")).to_contain_text("Drittel A")
    assert_accessible(page)
    shoot("calendar")

    page.get_by_role("link", name="Zurück zur Übersicht").click()
    requests = page.get_by_role("table", name=re.compile("Einzelne Anfragen"))
    requests.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=2, name="Anfrage entscheiden")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Genehmigen").click()
    expect(page.get_by_text("Die Anfrage ist genehmigt.")).to_be_visible()
    shoot("approved")
