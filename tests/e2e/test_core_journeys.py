"""Journeys through the core: start page, language, skip link, staff login by keyboard."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.support import (
    ADMIN,
    PASSWORD,
    assert_accessible,
    assert_focus_visible,
    is_focused,
    tab_to,
)


def test_start_page_leads_to_both_services(page: Page, shoot):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bürgerservice Musterstadt")
    assert_accessible(page)
    shoot("start")

    page.get_by_role("link", name="Mangel melden oder ansehen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mängelmelder")
    expect(page.get_by_role("link", name="Mängelmelder")).to_have_attribute("aria-current", "page")
    assert_accessible(page)

    page.go_back()
    page.get_by_role("link", name="Freie Zeiten ansehen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Räume und Hallen buchen")
    assert_accessible(page)


def test_language_switch_to_english_and_back(page: Page, shoot):
    page.goto("/impressum")
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/impressum$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Legal notice")
    assert_accessible(page)
    shoot("english")

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Musterstadt citizen services")
    page.get_by_role("button", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bürgerservice Musterstadt")


def test_skip_link_moves_focus_to_the_content(page: Page):
    page.goto("/leichte-sprache")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Zum Inhalt springen")
    assert is_focused(skip)
    assert_focus_visible(page)
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert is_focused(page.get_by_role("main"))
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Zum Mängel-Melder")).to_be_focused()


def test_staff_signs_in_and_out_with_the_keyboard_only(page: Page, shoot):
    page.goto("/")
    passed = tab_to(page, page.get_by_role("link", name="Anmeldung für Mitarbeitende"))
    assert "Zum Inhalt springen" in passed[0]
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmeldung für Mitarbeitende")

    tab_to(page, page.get_by_label("E-Mail-Adresse"))
    page.keyboard.type(ADMIN)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Passwort")).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.type(PASSWORD)
    shoot("login")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Verwaltung")
    expect(page.get_by_text("Angemeldet als Alex Admin.")).to_be_visible()
    assert_accessible(page)
    shoot("staff-home")

    tab_to(page, page.get_by_role("button", name="Abmelden"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Sie sind abgemeldet.")
    expect(page.get_by_role("link", name="Anmeldung für Mitarbeitende")).to_be_visible()
    assert_accessible(page)


def test_wrong_password_focuses_the_error_summary(page: Page, shoot):
    page.goto("/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(ADMIN)
    page.get_by_label("Passwort").fill("not the password")
    page.get_by_role("button", name="Anmelden").click()

    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Bitte prüfen Sie Ihre Angaben")
    link = summary.get_by_role("link", name="E-Mail-Adresse oder Passwort ist falsch.")
    password = page.get_by_label("Passwort")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("E-Mail-Adresse")).to_have_value(ADMIN)
    assert_accessible(page)
    shoot("error")

    link.click()
    expect(password).to_be_focused()


def test_start_page_in_leichter_sprache_explains_both_services(page: Page, shoot):
    page.goto("/")
    tab_to(page, page.get_by_role("link", name="Diese Seite in Leichter Sprache"), 60)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Der Bürger-Service in Leichter Sprache"
    )
    for service in ("1. Etwas ist kaputt: Mängel-Melder", "2. Einen Raum mieten: Buchung"):
        expect(page.get_by_role("heading", level=2, name=service)).to_be_visible()
    # Short sentences, one idea per line: every paragraph of the text is one or two sentences.
    sentences = page.locator(".easy-language p").evaluate_all(
        "ps => ps.map(p => p.innerText.split(/[.?!:](?:\\s|$)/).filter(s => s.trim()).length)"
    )
    assert sentences and max(sentences) <= 3, sentences
    assert_accessible(page)
    shoot("leichte-sprache")

    tab_to(page, page.get_by_role("link", name="Zum Mängel-Melder"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mängelmelder")
    page.go_back()
    tab_to(page, page.get_by_role("link", name="Zur Buchung"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Räume und Hallen buchen")

    page.goto("/leichte-sprache")
    page.get_by_role("button", name="English").click()
    # Leichte Sprache is German whatever the interface language (BITV: it is a German text).
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Der Bürger-Service in Leichter Sprache"
    )
    assert_accessible(page)
    # The English choice holds for the rest of the site: the start page is English, and the
    # way back to German is one button.
    page.goto("/")
    page.get_by_role("button", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
