"""Club journeys: a club registers and is approved, plans a season series, releases a training."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import BOOKING_OFFICE, assert_accessible
from tests.mailbox import Mailbox


@pytest.mark.parametrize("viewport", ["desktop"])  # one club account per module
def test_club_registers_plans_a_series_and_releases_a_training(
    page: Page, new_page, log_in, mailbox, shoot
):
    page.goto("/buchung/verein/registrieren")
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("alert")).to_contain_text("Bitte geben Sie den Namen des Vereins an.")
    assert_accessible(page)
    page.get_by_label("Name des Vereins").fill("Judo-Club Rurtal")
    page.get_by_label("Ansprechpersonen").fill("Jana Judo, 0151 1")
    page.get_by_label("Ihr Name").fill("Jana Judo")
    page.get_by_label("E-Mail-Adresse").fill("jana@judo.example")
    page.get_by_label("Passwort").fill("judo-passwort-1")
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bitte E-Mail-Adresse bestätigen")

    link = next(u for u in Mailbox.links(mailbox.latest(to="jana@judo.example")) if "verein" in u)
    page.goto(link)
    assert_accessible(page)
    page.get_by_role("button", name="Bestätigen").click()
    page.get_by_label("E-Mail-Adresse").fill("jana@judo.example")
    page.get_by_label("Passwort").fill("judo-passwort-1")
    assert_accessible(page)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_text("noch nicht freigegeben")).to_be_visible()

    office = new_page("desktop")
    log_in(office, BOOKING_OFFICE)
    office.goto("/verwaltung/buchung/vereine")
    assert_accessible(office)
    office.get_by_role("button", name="„Judo-Club Rurtal“ freigeben").click()
    expect(office.get_by_text("ist freigegeben")).to_be_visible()
    for url in ("/verwaltung/buchung/nutzung", "/verwaltung/buchung/hausmeisterei"):
        office.goto(url)
        assert_accessible(office)

    today = date.today()
    monday = today + timedelta(days=7 - today.weekday())
    last = monday + timedelta(weeks=5)
    office.goto("/verwaltung/buchung/saisons")
    assert_accessible(office)
    office.get_by_role("link", name="Neue Saison").click()
    office.get_by_label("Name").fill("Probesaison")
    office.get_by_label("Erster Tag").fill(monday.isoformat())
    office.get_by_label("Letzter Tag").fill(last.isoformat())
    assert_accessible(office)
    office.get_by_role("button", name="Saison speichern").click()
    expect(office.get_by_role("table")).to_contain_text("Probesaison")
    page.goto("/buchung/verein/")
    assert_accessible(page)
    page.get_by_role("link", name="Serie planen").click()
    page.get_by_label("Halle oder Raum").select_option(label="Dreifachhalle Schulzentrum")
    page.get_by_label("Montag").check()
    page.get_by_label("Beginn").fill("18:00")
    page.get_by_label("Ende").fill("20:00")
    page.get_by_label("Saison").select_option(
        label=f"Probesaison ({monday:%d.%m.%Y}–{last:%d.%m.%Y})"
    )
    expect(page.get_by_label("Erster Tag")).to_have_value(monday.isoformat())
    expect(page.get_by_label("Letzter Tag")).to_have_value(last.isoformat())
    page.get_by_role("button", name="Termine prüfen").click()
    expect(page.get_by_role("table")).to_contain_text("4 von 6 frei")
    expect(page.get_by_role("table")).to_contain_text("geschlossen: Hallenreinigung")
    assert_accessible(page)
    shoot("preview")
    page.get_by_role("button", name="Die freien Termine buchen").click()
    expect(page.get_by_text("4 Termine sind gebucht.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("Fällt aus")).first.click()
    expect(page.get_by_text("Der Termin fällt aus")).to_be_visible()
    shoot("released")

    page.goto("/buchung/")
    page.get_by_role("link", name="Dreifachhalle Schulzentrum").click()
    page.get_by_role("link", name="Belegungsplan zum Drucken").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Belegungsplan")
    assert_accessible(page)
    shoot("plan")
