"""Issue 22 on a phone (390 px): report photo-first, go back without losing what was typed,
and add information on the tracking page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import assert_accessible
from tests.mailbox import Mailbox
from tests.mangel.conftest import photo

pytestmark = pytest.mark.parametrize("viewport", ["phone"])

POTHOLE = re.compile(r"^Straßenschaden/Schlagloch")
WINDENER_WEG = (50.745056, 6.497629)  # where the photo of the first journey was taken

# Every word of the heading on one line: a line may break between words or after "/",
# never inside a word without a hyphen.
WORDS_WHOLE = """(h) => {
  const broken = [];
  const walker = document.createTreeWalker(h, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.data.matchAll(/[^\\s\\/]+\\/?/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (lines.size > 1) { broken.push(m[0]); }
    }
  }
  return broken;
}"""


def choose_category(page: Page) -> None:
    page.goto("/maengel/neu")
    page.get_by_label(POTHOLE).tap()
    page.get_by_role("button", name="Weiter zum Ort").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wo ist der Mangel?")


def past_duplicates(page: Page) -> None:
    """Step 3, also when a report nearby is offered to support first."""
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile("Beschreiben Sie den Mangel|Schon gemeldet"))
    if heading.inner_text() != "Beschreiben Sie den Mangel":
        page.get_by_role("link", name=re.compile("mein Anliegen ist neu")).tap()
    expect(heading).to_have_text("Beschreiben Sie den Mangel")


def test_photo_first_report(page: Page, mailbox, shoot, tmp_path: Path):
    choose_category(page)
    picture = tmp_path / "handyfoto.jpg"
    picture.write_bytes(photo(gps=WINDENER_WEG))
    # The photo comes first, above the map, as the heading says.
    first = page.get_by_role("heading", level=2).first
    expect(first).to_have_text("Foto aufnehmen – wir setzen den Ort aus dem Foto")
    shoot("step2")
    page.get_by_label("Foto aufnehmen oder auswählen").set_input_files(picture)  # sends itself

    expect(page.get_by_text("Wir haben die Markierung an den Aufnahmeort")).to_be_visible()
    expect(page.get_by_label("Breitengrad (Nord)")).to_have_value("50.745056")
    expect(page.get_by_role("img", name="Ihr Foto 1")).to_be_visible()
    assert_accessible(page)
    shoot("placed")
    page.get_by_role("button", name="Weiter", exact=True).tap()

    past_duplicates(page)
    expect(page.get_by_text("Dieses Foto fügen wir der Meldung bei.")).to_be_visible()
    expect(page.get_by_text(re.compile("nahe Windener Weg 1"))).to_be_visible()
    page.get_by_label("Beschreibung").fill("Loch im Radweg, Foto anbei.")
    page.get_by_label("Ihre E-Mail-Adresse").fill("fotofirst@example.org")
    page.get_by_label("Ich habe die Datenschutzerklärung gelesen").tap()
    assert_accessible(page)
    shoot("details")
    page.get_by_role("button", name="Meldung absenden").tap()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Fast geschafft")
    link = Mailbox.links(mailbox.latest(to="fotofirst@example.org"))[0]
    page.goto(link)
    page.get_by_role("button", name="Jetzt bestätigen").tap()
    expect(page.get_by_role("heading", level=2, name="Ihre Fotos")).to_be_visible()
    image = page.get_by_role("img", name=re.compile("Ihr Foto 1"))
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") > 0
    shoot("tracking")


def test_going_back_keeps_everything_typed(page: Page, shoot, tmp_path: Path):
    choose_category(page)
    address = page.get_by_role("combobox", name="Adresse")
    address.fill("Rurstraße 1")
    expect(page.get_by_role("option").first).to_have_text(re.compile("^Rurstraße 1,"))
    page.get_by_role("option").first.tap()
    page.get_by_role("button", name="Weiter", exact=True).tap()

    past_duplicates(page)
    place = page.locator(".summary__row", has_text="Ort")
    expect(place).to_contain_text("Rurstraße 1")
    expect(place).not_to_contain_text("50.74")
    picture = tmp_path / "loch.jpg"
    picture.write_bytes(photo())
    page.get_by_label("Beschreibung").fill("Gullydeckel klappert laut bei jedem Auto.")
    page.get_by_label("Fotos (freiwillig, bis zu 3)").set_input_files(picture)
    page.get_by_label("Ihr Name (freiwillig)").fill("Erika Mustermann")
    page.get_by_label("Ihre E-Mail-Adresse").fill("zurueck@example.org")
    shoot("typed")
    page.get_by_role("button", name="Ort ändern").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("Wo ist der Mangel?")
    expect(address).to_have_value("Rurstraße 1")
    address.fill("Rurstraße 3")
    expect(page.get_by_role("option").first).to_have_text(re.compile("^Rurstraße 3,"))
    page.get_by_role("option").first.tap()
    page.get_by_role("button", name="Weiter", exact=True).tap()

    past_duplicates(page)
    expect(place).to_contain_text("Rurstraße 3")
    expect(page.get_by_label("Beschreibung")).to_have_value(
        "Gullydeckel klappert laut bei jedem Auto."
    )
    expect(page.get_by_label("Ihr Name (freiwillig)")).to_have_value("Erika Mustermann")
    expect(page.get_by_label("Ihre E-Mail-Adresse")).to_have_value("zurueck@example.org")
    expect(page.get_by_text("Dieses Foto fügen wir der Meldung bei.")).to_be_visible()
    expect(page.get_by_role("img", name="Ihr Foto 1")).to_be_visible()
    assert_accessible(page)
    shoot("kept")


def test_tracking_page_ergaenzen(page: Page, live_server, mailbox, shoot, tmp_path: Path):
    from sqlalchemy import select

    from lotse.extensions import db
    from lotse.models import utcnow
    from mangel import services
    from mangel.models import Category, Report, StatusChange

    with live_server.app_context():
        category = db.session.scalars(
            select(Category).where(Category.name == "Straßenschaden/Schlagloch")
        ).one()
        report = Report(
            category=category,
            department_id=category.department_id,
            lat=50.746175,
            lon=6.488985,
            address_label="Kirchstraße 1",
            description="Schlagloch vor der Kirche.",
            reporter_email="ergaenzt@example.org",
            confirmed_at=utcnow(),
        )
        report.history.append(StatusChange(status="open"))
        db.session.add(report)
        db.session.flush()
        token = services.issue_tracking_token(report)
        department = category.department.email
        db.session.commit()

    page.goto(f"/maengel/verfolgen/{token}")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Straßenschaden/Schlagloch")
    assert heading.evaluate(WORDS_WHOLE) == [], "the heading splits a word"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.get_by_text("Kirchstraße 1")).to_be_visible()
    shoot("tracking")

    picture = tmp_path / "nachher.jpg"
    picture.write_bytes(photo())
    page.get_by_label("Was möchten Sie ergänzen?").fill(
        "Das Loch ist seit gestern doppelt so groß."
    )
    page.get_by_label("Fotos (freiwillig)").set_input_files(picture)
    assert_accessible(page)
    page.get_by_role("button", name="Ergänzung senden").tap()

    expect(page.get_by_text("Danke! Ihre Ergänzung ist bei der zuständigen Stelle")).to_be_visible()
    history = page.locator("ol.history")
    expect(history).to_contain_text("Ihre Ergänzung")
    expect(history).to_contain_text("Das Loch ist seit gestern doppelt so groß.")
    expect(page.get_by_role("img", name=re.compile("Ihr Foto 1"))).to_be_visible()
    mail = mailbox.latest(to=department)
    assert "Ergänzung der meldenden Person" in str(mail["Subject"])
    assert "doppelt so groß" in Mailbox.text(mail)
    shoot("added")
