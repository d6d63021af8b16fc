"""Escalation reminders and ``flask lotse purge``: contact data goes, the public report stays."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lotse.extensions import db
from lotse.models import utcnow

pytestmark = pytest.mark.both_dbs


def test_purge_removes_contact_data_after_closing_and_keeps_the_public_report(
    app, client, runner, make_report
):
    from mangel.models import Report, StatusChange

    old = make_report(status="fixed", description_released=True)
    recent = make_report(status="fixed")
    still_open = make_report()
    unconfirmed = make_report(confirmed_at=None, confirm_expires_at=utcnow() - timedelta(hours=1))
    with app.app_context():
        change = db.session.get(Report, old).history[0]
        change.created_at = utcnow() - timedelta(days=91)
        db.session.add(StatusChange(report_id=recent, status="fixed"))
        db.session.commit()
    result = runner.invoke(args=["lotse", "purge"])
    assert "Kontaktdaten aus 1 Meldungen entfernt, 1 unbestätigte" in result.output
    with app.app_context():
        purged = db.session.get(Report, old)
        assert (purged.reporter_name, purged.reporter_email) == ("", "")
        assert db.session.get(Report, recent).reporter_email
        assert db.session.get(Report, still_open).reporter_email
        assert db.session.get(Report, unconfirmed) is None
    page = client.get(f"/maengel/{old}")
    assert page.status_code == 200 and "Tiefes Loch" in page.get_data(as_text=True)


def test_purge_retention_per_category(make_app, make_report, categories):
    from mangel.models import Report

    app = make_app(MANGEL_CONTACT_RETENTION_BY_CATEGORY={categories["pothole"]: 0})
    rid = make_report(status="fixed")
    app.test_cli_runner().invoke(args=["lotse", "purge"])
    with app.app_context():
        assert db.session.get(Report, rid).reporter_email == ""


def test_sweep_reminds_the_department_once(app, runner, make_report, mailbox, categories):
    from mangel.models import Category

    with app.app_context():
        department = db.session.get(Category, categories["pothole"]).department
        department_id, address = department.id, department.email
    late = make_report(created_at=utcnow() - timedelta(days=4), department_id=department_id)
    make_report(department_id=department_id)  # fresh: no reminder
    runner.invoke(args=["lotse", "sweep"])
    mail = mailbox.latest(to=address)
    assert f"/verwaltung/maengel/meldungen/{late}" in mailbox.text(mail)
    assert "1 Meldungen warten" in mail["Subject"]
    count = len(mailbox.messages())
    runner.invoke(args=["lotse", "sweep"])
    assert len(mailbox.messages()) == count
