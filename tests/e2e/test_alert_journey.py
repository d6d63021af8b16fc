"""A neighbour subscribes to alerts for her street on a phone, confirms from the mail, and is
told about the next report in that street; the one-click link in the mail ends it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import assert_accessible
from tests.mailbox import Mailbox


@pytest.mark.parametrize("viewport", ["phone"])
def test_neighbour_subscribes_to_her_street(page: Page, viewport: str, mailbox, shoot, live_server):
    address = "nachbarin-lindenweg@example.org"
    page.goto("/maengel/")
    page.get_by_role("link", name="Per E-Mail benachrichtigt werden").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Benachrichtigungen bestellen")
    assert_accessible(page)
    page.get_by_label("Ihre E-Mail-Adresse").fill(address)
    page.get_by_label("In einer Straße", exact=True).tap()
    page.get_by_label("Straße", exact=True).fill("Lindenweg")
    page.get_by_label("Änderungen des Bearbeitungsstands").tap()
    shoot("form")
    page.get_by_role("button", name="Benachrichtigung bestellen").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    )
    assert_accessible(page)

    mail = mailbox.latest(to=address)
    assert mail["Subject"] == "Bitte bestätigen Sie Ihre Benachrichtigung"
    assert "Lindenweg" in Mailbox.text(mail)
    page.goto(Mailbox.links(mail)[0])
    page.get_by_role("button").filter(has_text="bestätigen").first.tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Benachrichtigung ist aktiv")
    assert_accessible(page)
    shoot("active")

    # The next public report in the Lindenweg reaches her, with a one-click way out.
    from lotse.extensions import db
    from lotse.models import utcnow
    from mangel.alerts.services import notify
    from mangel.models import Category, Report, map_cell

    with live_server.app_context():
        category = db.session.scalar(
            db.select(Category).where(Category.parent_id.is_not(None)).limit(1)
        )
        report = Report(
            category_id=category.id,
            lat=50.7470,
            lon=6.4910,
            map_cell=map_cell(50.7470, 6.4910),
            street="Lindenweg",
            confirmed_at=utcnow(),
        )
        db.session.add(report)
        db.session.flush()
        with live_server.app.test_request_context("/"):
            assert notify(report, "new") == 1
        db.session.commit()
    alert = mailbox.latest(to=address)
    assert alert["Subject"].startswith("Neue Meldung: ")
    assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    page.goto(Mailbox.links(alert)[-1])
    page.get_by_role("button", name="Abbestellen").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Abbestellt")
    shoot("unsubscribed")
