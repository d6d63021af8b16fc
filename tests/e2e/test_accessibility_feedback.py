"""A citizen reports a barrier through the form of the Erklärung zur Barrierefreiheit."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.support import assert_accessible
from tests.mailbox import Mailbox


def test_citizen_reports_a_barrier(page: Page, shoot, mailbox: Mailbox):
    page.goto("/leichte-sprache")
    page.get_by_role("link", name="Erklärung zur Barrierefreiheit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erklärung zur Barrierefreiheit")
    expect(page.get_by_label("Auf welcher Seite?")).to_have_value("/leichte-sprache")
    page.get_by_label("Ihre E-Mail-Adresse").fill("kim at example")
    page.get_by_role("button", name="Rückmeldung senden").click()

    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Bitte beschreiben Sie die Barriere.")).to_be_visible()
    message = page.get_by_label("Was funktioniert nicht?")
    expect(message).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Ihre E-Mail-Adresse")).to_have_value("kim at example")
    assert_accessible(page)
    shoot("errors")

    summary.get_by_role("link", name="Bitte beschreiben Sie die Barriere.").click()
    expect(message).to_be_focused()
    expect(page.get_by_text("Was funktioniert nicht?", exact=True)).to_be_in_viewport()
    assert "#" not in page.url
    page.keyboard.type("Der Knopf zum Senden ist mit der Lupe schwer zu finden.")
    page.get_by_label("Ihre E-Mail-Adresse").fill("kim@example.org")
    page.get_by_role("button", name="Rückmeldung senden").click()

    expect(page.get_by_role("status")).to_have_text("Vielen Dank! Ihre Rückmeldung ist angekommen.")
    expect(page.get_by_label("Was funktioniert nicht?")).to_have_value("")
    expect(page.get_by_role("status")).to_be_in_viewport()
    assert_accessible(page)
    shoot("sent")
    [mail] = mailbox.messages()
    assert mail["To"] == "barrierefreiheit@musterstadt.example"
    assert "mit der Lupe schwer zu finden" in Mailbox.text(mail)
