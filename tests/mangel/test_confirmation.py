"""Double opt-in: the mailed link confirms once, expires, and unconfirmed reports stay hidden."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

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


def test_confirmation_link_works_once(app, client, form_post, submitted):
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

    again = client.get(submitted)
    assert again.status_code == 404
    assert "Dieser Link ist ungültig" in again.get_data(as_text=True)
    # The tracking link also arrives by mail.
    # The department's copy leaves after the same commit: pick the reporter's mail.
    [mail] = [m for m in sent_mails(app) if "ist eingegangen" in str(m["Subject"])]
    assert link_in(mail, "/verfolgen/") == tracking

    from mangel.models import Report

    with app.app_context():
        report = db.session.scalars(select(Report)).one()
        assert report.confirmed_at is not None
        assert report.confirm_token_hash is None
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
