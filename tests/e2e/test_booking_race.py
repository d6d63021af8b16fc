"""Two people book the same free hour of the Gymnastikhalle at the same moment."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, Response, expect
from sqlalchemy import select

from buchung.models import Booking
from lotse.extensions import db
from tests.e2e.support import assert_accessible

WON = "Fast geschafft: bitte E-Mail bestätigen"


def open_first_free_slot(page: Page) -> None:
    page.goto("/buchung/")
    page.get_by_role("link", name="Gymnastikhalle").click()
    page.get_by_role("link", name=re.compile("Nächste Woche")).click()
    # Wait for the next week's page: a "frei" link of the old page may still be found.
    expect(page).to_have_url(re.compile(r"[?&]ab=\d{4}-\d{2}-\d{2}"))
    page.get_by_role("link", name=re.compile("^frei")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gymnastikhalle buchen")


def fill_form(page: Page, purpose: str, email: str) -> None:
    page.get_by_label("Zweck").fill(purpose)
    page.get_by_label("Anzahl Personen").fill("8")
    page.get_by_label("Privat").check()
    page.get_by_label("Ihr Name").fill(purpose)
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Telefon").fill("0151 456")


def test_two_people_book_the_same_slot_at_once(
    page: Page, new_page: Callable[..., Page], viewport: str, live_server, shoot
):
    other = new_page(viewport)
    people = {page: f"Rennen {viewport} eins", other: f"Rennen {viewport} zwei"}
    purposes = list(people.values())
    for person, purpose in people.items():
        open_first_free_slot(person)
        fill_form(person, purpose, f"{purpose.replace(' ', '-').lower()}@example.org")
    slot = page.get_by_label("Beginn").input_value(), page.get_by_label("Datum").input_value()
    assert slot == (
        other.get_by_label("Beginn").input_value(),
        other.get_by_label("Datum").input_value(),
    )

    # Both clicks go out before either answer is back: click() does not wait for the page.
    def posted(response: Response) -> bool:
        return response.request.method == "POST"

    with page.expect_response(posted) as first, other.expect_response(posted) as second:
        for person in people:
            person.get_by_role("button", name="Verbindlich buchen").click()
    statuses = {page: first.value.status, other: second.value.status}
    assert sorted(statuses.values()) == [302, 409], statuses
    winner = next(p for p, status in statuses.items() if status == 302)
    loser = next(p for p, status in statuses.items() if status == 409)

    expect(winner.get_by_role("heading", level=1)).to_have_text(WON)
    assert_accessible(winner)
    shoot("won", winner)

    summary = loser.get_by_role("alert")
    expect(summary).to_contain_text("Dieser Termin ist gerade vergeben.")
    expect(summary).to_be_focused()
    expect(loser.get_by_label("Zweck")).to_have_value(people[loser])
    # The loser is told what took the time and offered the next free ones.
    expect(summary).to_contain_text("Gymnastikhalle ist am")
    offers = loser.get_by_role("region", name="Stattdessen frei")
    expect(offers.get_by_role("button", name=re.compile("buchen$")).first).to_be_visible()
    assert_accessible(loser)
    shoot("taken", loser)

    with live_server.app_context():
        stored = db.session.scalars(select(Booking.purpose).where(Booking.purpose.in_(purposes)))
        assert list(stored) == [people[winner]]
