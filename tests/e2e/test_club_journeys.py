"""Club journeys: a club registers and is approved, plans a season series, releases a
training; a club official books a weekly series over Feiertag and school holidays, downloads
it as .ics and finds it on the Belegungsplan."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar, Event
from playwright.sync_api import Page, expect
from sqlalchemy import select

from buchung.clock import local_today, to_local
from buchung.club_models import Club, ClubMember
from buchung.models import Closure
from buchung.services.rules import public_holidays
from lotse.extensions import db
from lotse.models import utcnow
from tests.e2e.support import BOOKING_OFFICE, assert_accessible
from tests.mailbox import Mailbox

WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]


@pytest.mark.parametrize("viewport", ["desktop"])  # one club account per module
def test_club_registers_plans_a_series_and_releases_a_training(
    page: Page, new_page, live_server, log_in, mailbox, shoot
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

    # The demo's Hallenreinigung closes the hall three weeks ahead: a season on its weekday,
    # from a week before to three weeks after, at an hour no demo booking holds.
    with live_server.app_context():
        cleaning = db.session.scalar(select(Closure).where(Closure.title == "Hallenreinigung"))
        closed_day = to_local(cleaning.starts_at).date()
    first, last = closed_day - timedelta(weeks=1), closed_day + timedelta(weeks=3)
    office.goto("/verwaltung/buchung/saisons")
    assert_accessible(office)
    office.get_by_role("link", name="Neue Saison").click()
    office.get_by_label("Name").fill("Probesaison")
    office.get_by_label("Erster Tag").fill(first.isoformat())
    office.get_by_label("Letzter Tag").fill(last.isoformat())
    assert_accessible(office)
    office.get_by_role("button", name="Saison speichern").click()
    expect(office.get_by_role("table")).to_contain_text("Probesaison")
    page.goto("/buchung/verein/")
    assert_accessible(page)
    page.get_by_role("link", name="Serie planen").click()
    page.get_by_label("Halle oder Raum").select_option(label="Dreifachhalle Schulzentrum")
    page.get_by_label(WEEKDAYS[closed_day.weekday()]).check()
    page.get_by_label("Beginn").fill("19:00")
    page.get_by_label("Ende").fill("20:00")
    page.get_by_label("Saison").select_option(
        label=f"Probesaison ({first:%d.%m.%Y}–{last:%d.%m.%Y})"
    )
    expect(page.get_by_label("Erster Tag")).to_have_value(first.isoformat())
    expect(page.get_by_label("Letzter Tag")).to_have_value(last.isoformat())
    page.get_by_role("button", name="Termine prüfen").click()
    expect(page.get_by_role("table")).to_contain_text("4 von 5 frei")
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


# Per viewport a club of its own, with its hall and hour, so the two runs do not meet.
OFFICIAL = {
    "phone": ("Ruderclub Rurtal", "rudern@rurtal.example", "Gymnastikhalle", "18:00", "19:30"),
    "desktop": (
        "Tischtennis Kreuzau",
        "tt@kreuzau.example",
        "Dreifachhalle Schulzentrum: Drittel B",
        "19:00",
        "20:30",
    ),
}
CLUB_PASSWORD = "vereins-passwort-1"


def school_holidays(live_server, folder: Path, first: date, last: date) -> None:
    """Load a week of school holidays as the booking office does: an .ics through the CLI."""
    calendar = Calendar()
    calendar.add("prodid", "-//Lotse e2e//Schulferien//DE")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", "schulferien-e2e@lotse.example")
    event.add("summary", "Schulferien NRW")
    event.add("dtstart", first)
    event.add("dtend", last + timedelta(days=1))
    calendar.add_component(event)
    path = folder / "schulferien.ics"
    path.write_bytes(calendar.to_ical())
    result = live_server.app.test_cli_runner().invoke(args=["lotse", "import-closures", str(path)])
    assert result.exit_code == 0, result.output


def test_club_books_a_weekly_series_around_holidays(
    page: Page, viewport: str, live_server, shoot, tmp_path
):
    club_name, email, hall, start, end = OFFICIAL[viewport]
    with live_server.app_context():
        club = Club(name=club_name, contact_persons="Vera Vorstand, 02422 55", approved_at=utcnow())
        member = ClubMember(club=club, name="Vera Vorstand", email=email, confirmed_at=utcnow())
        member.set_password(CLUB_PASSWORD)
        db.session.add(member)
        db.session.commit()
        today = local_today()
        # The first Feiertag on a working day two months ahead or later decides the weekday;
        # the series runs two weeks before it to four weeks after it.
        holidays = public_holidays(today + timedelta(days=60), today + timedelta(days=400))
        feiertag = next(day for day in sorted(holidays) if day.weekday() < 5)
        days = [feiertag + timedelta(weeks=n) for n in range(-2, 5)]
        holidays = public_holidays(days[0], days[-1])
    vacation = days[4] - timedelta(days=days[4].weekday())
    school_holidays(live_server, tmp_path, vacation, vacation + timedelta(days=6))
    # A Feiertag reads as one in every refusal and plan ("Feiertag: Ostermontag").
    holidays = {day: f"Feiertag: {name}" for day, name in holidays.items()}
    closed = {day: holidays[day] for day in days if day in holidays}
    closed[days[4]] = holidays.get(days[4], "Schulferien NRW")
    free = [day for day in days if day not in closed]

    page.goto("/buchung/verein/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(CLUB_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(club_name)
    page.get_by_role("link", name="Serie planen").click()
    page.get_by_label("Halle oder Raum").select_option(label=hall)
    page.get_by_label(WEEKDAYS[feiertag.weekday()]).check()
    page.get_by_label("Beginn").fill(start)
    page.get_by_label("Ende").fill(end)
    page.get_by_label("Erster Tag").fill(days[0].isoformat())
    page.get_by_label("Letzter Tag").fill(days[-1].isoformat())
    page.get_by_label("Zweck").fill("Jugendtraining")
    page.get_by_role("button", name="Termine prüfen").click()

    preview = page.get_by_role("table", name=f"Ihre Termine: {len(free)} von {len(days)} frei")
    expect(preview).to_be_visible()
    rows = preview.get_by_role("row")
    expect(rows).to_have_count(1 + len(days))
    for number, day in enumerate(days, start=1):
        state = f"geschlossen: {closed[day]}" if day in closed else "frei"
        expect(rows.nth(number)).to_contain_text(f"{day:%d.%m.%Y} {start}–{end}")
        expect(rows.nth(number).get_by_role("cell").nth(1)).to_have_text(state)
    assert_accessible(page)
    shoot("preview")

    page.get_by_role("button", name="Die freien Termine buchen").click()
    expect(page.get_by_role("status")).to_have_text(f"{len(free)} Termine sind gebucht.")
    # Series are named with weekday and time, so two of one team read apart.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(rf"^\w\w {start}–{end} {hall.split(': ')[-1]}: Jugendtraining$")
    )
    assert_accessible(page)
    shoot("series")
    with page.expect_download() as download:
        page.get_by_role("link", name="In den Kalender übernehmen (.ics)").click()
    calendar = Calendar.from_ical(Path(download.value.path()).read_bytes())
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert [e.decoded("dtstart").date() for e in events] == free
    assert {e.decoded("dtstart").strftime("%H:%M") for e in events} == {start}
    assert {e.decoded("dtend").strftime("%H:%M") for e in events} == {end}
    assert {str(e["summary"]) for e in events} == {f"{hall.split(': ')[-1]}: Jugendtraining"}

    # The public Belegungsplan of the hall: the training in the first week, and on the
    # Feiertag the hall is closed instead.
    page.goto("/buchung/")
    page.get_by_role("link", name=hall.split(":")[0], exact=True).click()
    page.get_by_role("link", name="Belegungsplan zum Drucken").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Belegungsplan")
    plan_url = page.url.split("?")[0]
    for day, shown in ((days[0], "belegt"), (feiertag, f"ganztägig {hall.split(':')[0]}")):
        page.goto(f"{plan_url}?woche={day - timedelta(days=day.weekday())}")
        entries = page.locator(".plan-day").filter(has_text=f"{day:%d.%m.}")
        expect(entries).to_contain_text(shown)
        if shown == "belegt":
            expect(entries).to_contain_text(f"{start}–{end}")
        else:
            expect(entries).to_contain_text(f"geschlossen ({closed[feiertag]})")
    assert_accessible(page)
    shoot("plan")
