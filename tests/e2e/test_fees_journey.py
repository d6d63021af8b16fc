"""Fees journey: a club gives a SEPA mandate, books a season series and sees its total; the
office approves the series, bills the month and exports the direct-debit file."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import xmlschema
from playwright.sync_api import Page, expect

import buchung.models  # noqa: F401 - maps Resource before the club models are used
from buchung.clock import local_today
from buchung.club_models import Club, ClubMember
from lotse.extensions import db
from lotse.models import utcnow
from tests.e2e.support import BOOKING_OFFICE, assert_accessible

XSD = Path(__file__).parents[1] / "buchung" / "pain.008.001.02.xsd"
WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
PASSWORD = "gebuehren-passwort-1"
# Per viewport a club of its own, with its hall part, weekday and mandate.
CLUBS = {
    "phone": ("Volleyball Kreuzau", "vb@kreuzau.example", "Drittel A", 4, "VB-KREUZAU-1"),
    "desktop": ("Handball Rurtal", "hb@rurtal.example", "Drittel C", 3, "HB-RURTAL-1"),
}


def first_day(weekday: int) -> date:
    """A weekday at least a week ahead, early enough in its month for three weeks in it."""
    today = local_today()
    day = today + timedelta(days=(weekday - today.weekday()) % 7 + 7)
    while day.day > 10:
        day += timedelta(weeks=1)
    return day


def test_club_books_season_office_bills_and_exports_sepa(
    page: Page, viewport: str, new_page, live_server, log_in, mailbox, shoot, tmp_path
):
    club_name, email, part, weekday, reference = CLUBS[viewport]
    with live_server.app_context():
        club = Club(name=club_name, contact_persons="Kai Kasse", approved_at=utcnow())
        member = ClubMember(club=club, name="Kai Kasse", email=email, confirmed_at=utcnow())
        member.set_password(PASSWORD)
        db.session.add(member)
        db.session.commit()
        first = first_day(weekday)
        signed = local_today() - timedelta(days=3)
    last = first + timedelta(weeks=2)

    page.goto("/buchung/verein/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_role("link", name="Gebühren und Bescheide").click()
    page.get_by_role("link", name="SEPA-Lastschriftmandat erteilen").click()
    page.get_by_label("Anschrift des Vereins").fill("Sportplatz 3\n52372 Musterstadt")
    page.get_by_label("Kontoinhaber").fill(f"{club_name} e. V.")
    page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 01")
    page.get_by_label("Mandatsreferenz").fill(reference)
    page.get_by_label("Unterschrieben am").fill(signed.isoformat())
    page.get_by_label(re.compile("Wir ermächtigen die Stadtkasse")).check()
    page.get_by_role("button", name="Mandat speichern").click()
    expect(
        page.get_by_text("Diese IBAN ist nicht gültig. Bitte prüfen Sie sie.").first
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    page.get_by_label(re.compile("Wir ermächtigen die Stadtkasse")).check()
    page.get_by_role("button", name="Mandat speichern").click()
    expect(page.get_by_text("Ihr SEPA-Lastschriftmandat ist gespeichert.")).to_be_visible()
    expect(page.get_by_text(f"Mandat {reference} vom")).to_be_visible()

    page.goto("/buchung/verein/serie/neu")
    page.get_by_label("Halle oder Raum").select_option(label=f"Dreifachhalle Schulzentrum: {part}")
    page.get_by_label(WEEKDAYS[weekday]).check()
    page.get_by_label("Beginn").fill("20:00")
    page.get_by_label("Ende").fill("21:30")
    page.get_by_label("Erster Tag").fill(first.isoformat())
    page.get_by_label("Letzter Tag").fill(last.isoformat())
    page.get_by_label("Zweck").fill("Training Herren")
    page.get_by_role("button", name="Termine prüfen").click()
    caption = page.get_by_role("table").locator("caption")
    free = int(re.search(r"(\d+) von 3 frei", caption.inner_text()).group(1))
    assert free >= 2
    total = f"{free * 1050 // 100},{free * 1050 % 100:02d}"
    expect(page.get_by_text(f"Saison gesamt: {total}")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"Termine × \(1,5 Std\. × 7,00\s€ \(Verein\) = 10,50\s€\)"))
    ).to_be_visible()
    assert_accessible(page)
    shoot("preview")
    page.get_by_role("button", name="Die freien Termine buchen").click()
    expect(page.get_by_text(f"{free} Termine sind gebucht.")).to_be_visible()
    expect(page.get_by_text(f"Saison gesamt: {total}")).to_be_visible()

    office = new_page(viewport)
    log_in(office, BOOKING_OFFICE)
    office.goto("/verwaltung/buchung/")
    series = office.get_by_role("region", name=re.compile(f"Serie von {club_name}"))
    series.get_by_role("button", name=re.compile("Serie genehmigen")).click()
    expect(office.get_by_role("region", name=re.compile(f"Serie von {club_name}"))).to_have_count(0)

    office.goto("/verwaltung/buchung/gebuehren/")
    office.get_by_label("Monat", exact=True).first.select_option(first.replace(day=1).isoformat())
    office.get_by_role("button", name="Bescheide erstellen").click()
    expect(office.get_by_text(re.compile(r"Bescheide? über .* erstellt"))).to_be_visible()
    row = office.get_by_role("table", name="Belege").get_by_role("row").filter(has_text=club_name)
    expect(row).to_contain_text(f"{total}")
    assert_accessible(office)
    shoot("bills", office)
    row.get_by_role("link").first.click()
    expect(office.get_by_role("heading", level=1)).to_contain_text("Gebührenbescheid")
    expect(office.get_by_text("Rechtsbehelfsbelehrung")).to_be_visible()
    expect(office.get_by_text(f"Mandatsreferenz {reference}")).to_be_visible()
    assert_accessible(office)
    shoot("bill", office)

    office.get_by_role("link", name="Zurück zur Übersicht").click()
    with office.expect_download() as download:
        office.get_by_role("button", name="SEPA-Lastschriftdatei (pain.008) erstellen").click()
    path = tmp_path / "lastschrift.xml"
    download.value.save_as(path)
    xml = path.read_bytes()
    schema = xmlschema.XMLSchema(str(XSD))
    schema.validate(xml)
    assert reference.encode() in xml
    doc = schema.to_dict(xml)["CstmrDrctDbtInitn"]
    assert doc["GrpHdr"]["NbOfTxs"] == "1"
    assert f"{doc['GrpHdr']['CtrlSum']:.2f}" == total.replace(",", ".")

    mail = mailbox.latest(to=email)
    assert mail["Subject"].startswith("Gebührenbescheid ")
    page.goto("/buchung/verein/gebuehren/")
    expect(page.get_by_role("table")).to_contain_text(mail["Subject"])
    assert_accessible(page)
    shoot("club-bills")
