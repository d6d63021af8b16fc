"""Double opt-in: the mailed link confirms once, expires, and unconfirmed reports stay hidden."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy import update as sa_update

from lotse.extensions import db
from lotse.models import utcnow
from tests.mangel.conftest import count_rows, link_in, photo, sent_mails, upload, upload_files

pytestmark = pytest.mark.both_dbs


@pytest.fixture
def submitted(app, submit, report_data) -> str:
    """A submitted street-light report with a photo; returns the confirmation link's path."""
    assert submit(report_data(photos=[upload(photo())])).status_code == 302
    return link_in(sent_mails(app)[-1], "/bestaetigen/meldung/")


def _bbox() -> str:
    return "6.43,50.68,6.56,50.80"


def test_unconfirmed_report_is_invisible(app, client, submitted):
    assert client.get("/maengel/1").status_code == 404
    assert "Nr. 1" not in client.get("/maengel/").get_data(as_text=True)
    assert client.get(f"/maengel/karte.json?bbox={_bbox()}").get_json()["features"] == []
    assert "<entry>" not in client.get("/maengel/feed.atom").get_data(as_text=True)


def test_confirmation_link_confirms_once_then_leads_to_the_tracking_page(
    app, client, form_post, submitted
):
    page = client.get(submitted)
    assert page.status_code == 200
    assert "Jetzt bestätigen" in page.get_data(as_text=True)
    # Opening the link (a mail scanner does that) changes nothing: confirming is a POST.
    assert client.get("/maengel/1").status_code == 404

    response = form_post(submitted, {})
    assert response.status_code == 302
    tracking = response.headers["Location"]
    assert "/maengel/verfolgen/" in tracking
    private = client.get(tracking)
    assert private.status_code == 200
    assert "Die Laterne vor Haus 12" in private.get_data(as_text=True)
    assert private.headers["Cache-Control"] == "private, no-store"
    assert client.get("/maengel/1").status_code == 200

    # A second click (tomorrow, from the same mail) opens the same tracking page.
    again = client.get(submitted)
    assert again.status_code == 302
    assert again.headers["Location"] == tracking
    page = client.get(tracking).get_data(as_text=True)
    assert "Ihre Meldung ist bereits bestätigt" in page
    assert "Dieser Link ist ungültig" not in page
    # The tracking link also arrives by mail.
    # The department's copy leaves after the same commit: pick the reporter's mail.
    [mail] = [m for m in sent_mails(app) if "ist eingegangen" in str(m["Subject"])]
    assert link_in(mail, "/verfolgen/") == tracking

    from mangel.models import Report

    with app.app_context():
        report = db.session.scalars(select(Report)).one()
        assert report.confirmed_at is not None
        assert report.tracking_token_hash and report.tracking_token_hash not in tracking


def test_token_is_stored_only_as_hash(app, submitted):
    token = submitted.rsplit("/", 1)[1]
    from mangel.models import Report

    with app.app_context():
        report = db.session.scalars(select(Report)).one()
        assert token not in report.confirm_token_hash
        assert len(report.confirm_token_hash) == 64


def test_confirmation_link_expires(app, client, form_post, submitted):
    from mangel.models import Report

    with app.app_context():
        report = db.session.scalars(select(Report)).one()
        report.confirm_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = client.get(submitted)
    assert response.status_code == 410
    assert "Dieser Link ist abgelaufen" in response.get_data(as_text=True)
    assert client.get("/maengel/1").status_code == 404


def test_unknown_tokens_are_refused(client):
    assert client.get("/maengel/bestaetigen/meldung/nichts").status_code == 404
    assert client.get("/maengel/verfolgen/nichts").status_code == 404


def test_sweep_purges_expired_unconfirmed_reports_and_their_photos(
    app, runner, submitted, make_report
):
    confirmed = make_report()
    assert len(upload_files(app)) == 2
    from mangel.models import Report

    with app.app_context():
        pending = db.session.scalars(select(Report).where(Report.confirmed_at.is_(None))).one()
        pending.confirm_expires_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    result = runner.invoke(args=["lotse", "sweep"])
    assert result.exit_code == 0, result.output
    assert count_rows(app)["report"] == 1
    assert upload_files(app) == []
    with app.app_context():
        assert db.session.get(Report, confirmed) is not None


def test_sweep_keeps_reports_whose_link_is_still_valid(app, runner, submitted):
    assert runner.invoke(args=["lotse", "sweep"]).exit_code == 0
    assert count_rows(app)["report"] == 1
    assert len(upload_files(app)) == 2


def test_late_confirmation_mail_brings_a_link_valid_for_its_full_time(
    make_app, categories, report_data
):
    """The mail server refuses until after the link's time as issued: the report is not
    purged meanwhile, and the link that finally arrives counts its hours from then."""
    from lotse.outbox import OutboxMail
    from mangel.models import Report
    from tests.conftest import csrf_token_from
    from tests.mangel.conftest import details_url
    from tests.sinks import SmtpSink

    with SmtpSink() as smtp:
        smtp.mode = "refuse"
        app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
        client, runner = app.test_client(), app.test_cli_runner()
        page = client.get(details_url(categories["light"])).get_data(as_text=True)
        data = report_data()
        data["csrf_token"] = csrf_token_from(page)
        assert client.post("/maengel/neu/angaben", data=data).status_code == 302

        def days_pass() -> None:
            with app.app_context():
                db.session.execute(
                    sa_update(Report).values(confirm_expires_at=utcnow() - timedelta(minutes=1))
                )
                db.session.execute(sa_update(OutboxMail).values(next_attempt_at=utcnow()))
                db.session.commit()

        days_pass()
        runner.invoke(args=["lotse", "sweep"])  # refused again; the purge waits for the mail
        assert smtp.messages == [] and count_rows(app)["report"] == 1
        smtp.mode = "accept"
        days_pass()
        runner.invoke(args=["lotse", "sweep"])
        [mail] = smtp.to(data["email"])
        with app.app_context():
            expires = db.session.scalar(select(Report.confirm_expires_at))
            assert expires > utcnow() + timedelta(hours=47)
            assert db.session.scalar(select(OutboxMail.message)) is None  # the raw token is gone
        path = link_in(mail, "/bestaetigen/meldung/")
        page = client.get(path).get_data(as_text=True)
        response = client.post(path, data={"csrf_token": csrf_token_from(page)})
        assert response.status_code == 302 and "/verfolgen/" in response.headers["Location"]
