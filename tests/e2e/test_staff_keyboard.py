"""Staff by keyboard (issue 21): choosing a Textbaustein with the arrow keys does not
overwrite the public note (WCAG 3.2.2); Enter or "Einfügen" applies it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from lotse.extensions import db
from lotse.models import User
from mangel.models import Report
from mangel.workbench.models import ResponseTemplate
from tests.e2e.support import CLERK, assert_accessible

OWN = "Mein eigener Text, noch nicht fertig."
PREPARED = "Wir haben den Schaden aufgenommen und beauftragen eine Fachfirma."


@pytest.mark.parametrize("viewport", ["desktop"])
def test_arrow_keys_on_the_textbaustein_list_leave_the_note_alone(page: Page, live_server, log_in):
    with live_server.app_context():
        clerk = db.session.scalar(select(User).where(User.email == CLERK))
        report = db.session.scalar(
            select(Report)
            .where(Report.department_id.in_(clerk.department_ids()))
            .order_by(Report.id)
        )
        for title, text in (("Aufgenommen", PREPARED), ("Erledigt", "Erledigt, danke.")):
            db.session.add(ResponseTemplate(title=title, text=text))
        db.session.commit()
        report_id = report.id
    log_in(page, CLERK)
    page.goto(f"/verwaltung/maengel/meldungen/{report_id}")
    note = page.get_by_role("textbox", name="Öffentliche Notiz")
    note.fill(OWN)
    select_box = page.get_by_label("Textbaustein für die öffentliche Notiz")
    select_box.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(note).to_have_value(OWN)
    expect(select_box).to_be_focused()

    select_box.select_option(label="Aufgenommen")
    expect(note).to_have_value(OWN)
    select_box.focus()
    page.keyboard.press("Enter")
    expect(note).to_have_value(PREPARED)
    expect(note).to_be_focused()
    assert_accessible(page)

    note.fill(OWN)
    select_box.select_option(label="Erledigt")
    page.get_by_role("button", name="Einfügen").click()
    expect(note).to_have_value("Erledigt, danke.")
    assert page.url.endswith(f"/meldungen/{report_id}")  # filled here, no round trip
