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


def test_purge_clears_supporters_addresses_and_spares_duplicates_of_open_reports(
    app, runner, make_report
):
    from mangel.models import Report, StatusChange, Support

    long_ago = utcnow() - timedelta(days=91)
    original = make_report()
    duplicate = make_report(status="duplicate", duplicate_of_id=original)
    closed = make_report(status="fixed")
    with app.app_context():
        for rid in (duplicate, closed):
            db.session.get(Report, rid).history[0].created_at = long_ago
            db.session.add(
                Support(
                    report_id=rid,
                    email_hash=f"hash-{rid}",
                    notify_email=f"nachbar{rid}@example.org",
                    confirmed_at=long_ago,
                )
            )
        db.session.commit()

    def addresses(rid: int) -> tuple[str, str | None]:
        with app.app_context():
            support = db.session.scalar(db.select(Support).where(Support.report_id == rid))
            return db.session.get(Report, rid).reporter_email, support.notify_email

    runner.invoke(args=["lotse", "purge"])
    assert addresses(closed) == ("", None)
    assert addresses(duplicate) == (
        "erika.mustermann@example.org",
        f"nachbar{duplicate}@example.org",
    )
    with app.app_context():  # the original is closed: its duplicate's people follow no more
        report = db.session.get(Report, original)
        report.status = "fixed"
        report.history.append(StatusChange(status="fixed", created_at=long_ago))
        db.session.commit()
    runner.invoke(args=["lotse", "purge"])
    assert addresses(duplicate) == ("", None)


def test_refused_reminder_is_sent_by_a_later_sweep_and_the_sweep_goes_on(
    make_app, make_report, categories
):
    """The mail server refusing a reminder stops neither the sweep nor the reminder: it is
    an outbox mail, marked as reminded once, and sent when the server takes it."""
    from sqlalchemy import update

    from lotse.outbox import OutboxMail
    from mangel import retention
    from mangel.models import Category, Report
    from tests.sinks import SmtpSink

    with SmtpSink() as smtp:
        app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
        with app.app_context():
            department_id = db.session.get(Category, categories["pothole"]).department_id
        late = make_report(created_at=utcnow() - timedelta(days=4), department_id=department_id)
        smtp.mode = "refuse"
        with app.app_context():
            retention.remind()  # does not raise: the sweep's later hooks still run
            assert db.session.get(Report, late).reminded_at is not None
        assert smtp.messages == []
        smtp.mode = "accept"
        with app.app_context():
            retention.remind()  # not reminded twice
            db.session.execute(update(OutboxMail).values(next_attempt_at=utcnow()))
            db.session.commit()
        app.test_cli_runner().invoke(args=["lotse", "sweep"])
        [mail] = smtp.messages
        assert "1 Meldungen warten auf Bearbeitung" in str(mail["Subject"])
        assert f"/meldungen/{late}" in mail.get_body(("plain",)).get_content()
