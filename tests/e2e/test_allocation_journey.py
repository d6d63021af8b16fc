"""Saisonvergabe from the office's proposal to the club's result (issue 18).

A round whose application deadline has passed, three clubs' applications; the office runs
the proposal, adds one unit by hand (a unit over a club's quota is refused at once, with
the reason), opens the pre-publish check (totals, every gap with its reason), accepts the
one gap another booking causes and publishes; the club reads its result page, and the
result mail at the club's address names the booked dates and hours.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from buchung.allocation.models import AllocationRound, PriorityClass
from buchung.allocation.services import create_request
from buchung.clock import local_moment, local_today, monday_of
from buchung.club_models import Club, ClubMember, ClubQuota, Season
from buchung.models import OpeningHours, Resource
from buchung.services.booking import Contact, create_booking
from buchung.services.rules import public_holidays
from lotse.extensions import db
from lotse.models import Department, User, utcnow
from tests.e2e.support import BOOKING_OFFICE, assert_accessible
from tests.mailbox import Mailbox

CLUB_PASSWORD = "vergabe-passwort-1"
WEEKS = 6


def _club(name: str, email: str) -> Club:
    club = Club(name=name, contact_persons="Vera Vorstand, 0151 18")
    club.approve()
    member = ClubMember(club=club, name="Vera Vorstand", email=email, confirmed_at=utcnow())
    member.set_password(CLUB_PASSWORD)
    db.session.add(member)
    return club


def _round(tag: str) -> dict:
    """A hall of its own (club horizon 30 days, shorter than the season), a six-week season
    without public holidays, turns weighted by members, three clubs (one without a member
    count) and their applications, a quota of 4 hours a week for the first club, a school
    festival on one Thursday; the deadline has passed."""
    sport = db.session.scalar(select(Department).where(Department.name == "Sport- und Bäderamt"))
    hall = Resource(
        name=f"Vergabehalle {tag}",
        kind="hall",
        department=sport,
        min_minutes=60,
        max_minutes=240,
        horizon_days=30,
        opening_hours=[
            OpeningHours(weekday=d, opens_minute=8 * 60, closes_minute=22 * 60) for d in range(7)
        ],
    )
    first = monday_of(local_today()) + timedelta(weeks=3)
    while public_holidays(first, first + timedelta(weeks=WEEKS)):
        first += timedelta(weeks=1)
    season = Season(
        name=f"Wintersaison {tag}",
        first_day=first,
        last_day=first + timedelta(weeks=WEEKS, days=-1),
    )
    round_ = AllocationRound(
        name=f"Vergabe {tag}",
        season=season,
        deadline=utcnow() - timedelta(hours=1),
        resources=[hall],
        turns="members",
    )
    nord = _club(f"TSV Nord {tag}", f"tsv-{tag}@nord.example")
    sued = _club(f"DJK Süd {tag}", f"djk-{tag}@sued.example")
    west = _club(f"Turnfreunde West {tag}", f"tf-{tag}@west.example")
    nord.set_member_count(420)
    sued.set_member_count(260)  # Turnfreunde West never entered theirs
    db.session.add_all([hall, round_])
    db.session.flush()
    db.session.add(ClubQuota(club=nord, resource=hall, season=season, max_minutes=4 * 60))
    training = db.session.scalar(select(PriorityClass).where(PriorityClass.name == "Training"))
    for club, team, minutes, first_wish, second_wish in (
        (nord, "Volleyball Damen 1", 120, ([1], 18 * 60), ([2], 18 * 60)),
        (nord, "Volleyball Jugend", 90, ([3], 17 * 60), None),
        (sued, "Basketball Herren", 120, ([1], 18 * 60), ([2], 18 * 60)),
        (west, "Rückengymnastik", 60, ([0], 17 * 60), None),
    ):
        create_request(
            round_,
            club,
            team=team,
            priority_class=training,
            sessions_per_week=1,
            duration_minutes=minutes,
            first=first_wish,
            second=second_wish,
            hall_ids=[hall.id],
        ).receipt_sent_at = utcnow()
    festival = first + timedelta(weeks=2, days=3)  # a Thursday
    office = db.session.scalar(select(User).where(User.email == BOOKING_OFFICE))
    create_booking(
        hall,
        local_moment(festival, 16 * 60),
        local_moment(festival, 20 * 60),
        purpose="Schulfest",
        contact=Contact("Grundschule", "", "02422 1"),
        staff=office,
    )
    db.session.commit()
    return {"round": round_.id, "hall": hall.id, "festival": festival, "first": first}


def test_office_publishes_a_round_and_the_club_reads_its_result(
    page: Page, new_page, live_server, log_in, mailbox, shoot, viewport
):
    tag = uuid.uuid4().hex[:6]
    with live_server.app_context():
        data = _round(tag)
    round_url = f"/verwaltung/buchung/vergabe/{data['round']}"

    log_in(page, BOOKING_OFFICE)
    page.goto("/verwaltung/buchung/vergabe/")
    page.get_by_role("link", name=f"Vergabe {tag}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Vergabe {tag}")
    # Turns follow member counts: the missing one is entered on the club list first.
    note = page.get_by_role("note")
    expect(note).to_contain_text(f"1 Antragsteller ohne Mitgliederzahl: Turnfreunde West {tag}")
    note.get_by_role("link", name="Mitgliederzahlen eintragen").click()
    row = page.get_by_role("row").filter(has_text=f"Turnfreunde West {tag}")
    row.get_by_label("Mitgliederzahl").fill("85")
    row.get_by_role("button", name="Mitgliederzahl speichern").click()
    expect(
        page.get_by_text(f"Die Mitgliederzahl von „Turnfreunde West {tag}“ ist gespeichert: 85.")
    ).to_be_visible()
    assert_accessible(page)
    shoot("member-count")
    page.goto(round_url)
    expect(page.get_by_role("note")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text=f"Turnfreunde West {tag}")).to_contain_text(
        "85 (Stand "
    )
    page.get_by_role("button", name="Vorschlag erstellen").click()
    expect(page.get_by_text("Vorschlag erstellt: 4 Einheiten zugeteilt.")).to_be_visible()
    expect(
        page.get_by_role("button", name="Vorschlag neu erstellen")
    ).to_have_accessible_description(re.compile("ersetzt alle Zuteilungen, auch die von Hand"))
    assert_accessible(page)
    shoot("proposal")

    # By hand: a second Volleyball unit for TSV Nord would pass its 4 hours a week.
    page.get_by_role("link", name=f"Vergabehalle {tag}").click()
    form = page.locator("form", has=page.get_by_role("button", name="Zuteilen"))
    form.get_by_label("Antrag", exact=True).select_option(
        label=f"Volleyball Jugend (TSV Nord {tag}, Training)"
    )
    form.get_by_label("Wochentag").select_option(label="Freitag")
    form.get_by_label("Beginn").fill("17:00")
    form.get_by_role("button", name="Zuteilen").click()
    summary = page.get_by_role("alert").filter(has_text="Bitte prüfen Sie Ihre Angaben")
    expect(summary).to_be_focused()  # the reason at once, where the eye and the reader are
    expect(summary).to_contain_text("höchstens 4 Stunden pro Woche")
    expect(summary).to_contain_text("wären es 5 Stunden. Die Einheit ist nicht zugeteilt")
    assert_accessible(page)
    shoot("refused-by-hand")
    form.get_by_label("Antrag", exact=True).select_option(
        label=f"Rückengymnastik (Turnfreunde West {tag}, Training)"
    )
    form.get_by_label("Wochentag").select_option(label="Freitag")
    form.get_by_label("Beginn").fill("17:00")
    form.get_by_role("button", name="Zuteilen").click()
    expect(page.get_by_text("Die Einheit ist zugeteilt.")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Fr 17:00–18:00")).to_contain_text(
        "Rückengymnastik"
    )
    shoot("added-by-hand")

    # The check: every date publishing books; the festival's Thursday is a gap to accept.
    page.goto(round_url)
    page.get_by_role("link", name="Veröffentlichen und Serien buchen …").click()
    total = 5 * WEEKS
    expect(page.get_by_text(f"{total - 1} von {total} Terminen werden gebucht")).to_be_visible()
    gaps = page.get_by_role("table", name="Termine, die nicht gebucht werden")
    gap = gaps.get_by_role("row").filter(has_text="Volleyball Jugend")
    expect(gap).to_contain_text(data["festival"].strftime("%d.%m.%Y"))
    expect(gap).to_contain_text("Die Zeit ist schon belegt. (zu akzeptieren)")
    assert_accessible(page)
    shoot("check")
    page.get_by_role("button", name="Jetzt veröffentlichen und Serien buchen").click()
    expect(page.get_by_text("Bitte akzeptieren Sie die Lücken").first).to_be_visible()
    page.get_by_label("Lücken akzeptieren").check()
    page.get_by_role("button", name="Jetzt veröffentlichen und Serien buchen").click()
    expect(
        page.get_by_text("Die Runde ist veröffentlicht: die Serien sind gebucht.")
    ).to_be_visible()
    expect(page.get_by_text("Veröffentlicht am")).to_be_visible()
    expect(page.get_by_text(f"{total - 1} von {total} Terminen gebucht")).to_be_visible()
    expect(page.get_by_text("Beim Veröffentlichen wurde 1 Lücke akzeptiert.")).to_be_visible()
    assert_accessible(page)
    shoot("published")

    # The club: its result page, and the mail at its address.
    club = new_page(viewport)
    club.goto("/buchung/verein/anmelden")
    club.get_by_label("E-Mail-Adresse").fill(f"tsv-{tag}@nord.example")
    club.get_by_label("Passwort").fill(CLUB_PASSWORD)
    club.get_by_role("button", name="Anmelden").click()
    club.goto(f"/buchung/verein/vergabe/{data['round']}/ergebnis")
    jugend = club.get_by_role("region", name="Volleyball Jugend")
    expect(jugend).to_contain_text(f"{WEEKS - 1} von {WEEKS} Terminen gebucht")
    expect(jugend).to_contain_text(data["festival"].strftime("%d.%m.%Y"))
    assert_accessible(club)
    shoot("club-result", club)

    (mail,) = mailbox.messages(to=f"tsv-{tag}@nord.example")
    assert mail["Subject"] == f"Ergebnis der Saisonvergabe: Vergabe {tag}"
    text = Mailbox.text(mail)
    thursdays = (
        data["first"] + timedelta(days=3),
        data["first"] + timedelta(weeks=WEEKS - 1, days=3),
    )
    assert "Volleyball Jugend" in text and "Do 17:00–18:30" in text
    assert f"{WEEKS - 1} von {WEEKS} Terminen gebucht, 7,5 Stunden in der Saison." in text
    assert f"{WEEKS - 1} von {WEEKS} Terminen gebucht." in text
    assert "Vom {:%d.%m.%Y} bis {:%d.%m.%Y}.".format(*thursdays) in text
    assert data["festival"].strftime("%d.%m.%Y") in text
