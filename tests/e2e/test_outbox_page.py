"""The admin's page of mails that did not go out: an outbox mail waits, is sent on request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from lotse.extensions import db
from lotse.models import utcnow
from lotse.outbox import queue_mail
from tests.e2e.support import ADMIN, assert_accessible

pytestmark = pytest.mark.parametrize("viewport", ["desktop"])


def test_admin_sends_a_refused_mail_again(page: Page, live_server, log_in, mailbox, shoot):
    with live_server.app_context():
        row = queue_mail(
            "barrierefreiheit@musterstadt.example",
            "Rückmeldung zur Barrierefreiheit",
            "emails/accessibility_feedback",
            kind="lotse.accessibility_feedback",
            message="Der Kontrast der Karte ist zu schwach.",
        )
        # As if the mail server had refused it once: it waits for its next attempt (the
        # job after the commit finds it not due).
        row.attempts = 1
        row.last_error = "SMTPDataError: (550, b'5.7.1 Empfang verweigert')"
        row.next_attempt_at = utcnow() + timedelta(minutes=5)
        db.session.commit()
        mail_id = row.id

    log_in(page, ADMIN)
    page.goto("/verwaltung/maengel/zustellungen")
    table = page.get_by_role("table", name="E-Mails, die noch nicht angekommen sind")
    expect(table).to_contain_text("Rückmeldung zur Barrierefreiheit")
    expect(table).to_contain_text("fehlgeschlagen – nächster Versuch")
    expect(table).to_contain_text("Der Mailserver hat die E-Mail abgelehnt (Code 550).")
    assert_accessible(page)
    shoot("waiting")

    table.get_by_role("button", name=f"Jetzt erneut senden (E-Mail Nr. {mail_id})").click()
    expect(
        page.get_by_text(f"Die E-Mail Nr. {mail_id} wird jetzt erneut versucht.")
    ).to_be_visible()
    expect(page.get_by_text("Alle E-Mails sind angekommen.")).to_be_visible()
    shoot("sent")
    mail = mailbox.latest(to="barrierefreiheit@musterstadt.example")
    assert "Der Kontrast der Karte ist zu schwach." in mailbox.text(mail)
