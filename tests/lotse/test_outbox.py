"""The core outbox: a mail is a row written with its change, sent once, retried until it goes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lotse.extensions import db
from lotse.models import utcnow
from lotse.outbox import OutboxMail, queue_mail, sweep
from tests.sinks import SmtpSink

pytestmark = pytest.mark.both_dbs


def _queue(to: str = "buerger@example.org") -> None:
    queue_mail(
        to,
        "Bitte bestätigen Sie Ihre Meldung",
        "emails/accessibility_feedback",
        kind="test.mail",
        ref="test:1",
        message="Die Rampe am Rathaus ist zugestellt.",
        contact="buerger@example.org",
        page="/barrierefreiheit",
    )


def test_mail_leaves_after_the_commit_once(app, mailbox):
    with app.app_context():
        _queue()
        assert mailbox.messages() == []  # nothing before the commit
        db.session.commit()
        sent = mailbox.messages(to="buerger@example.org")
        assert len(sent) == 1
        assert sent[0]["Subject"] == "Bitte bestätigen Sie Ihre Meldung"
        assert "Die Rampe am Rathaus ist zugestellt." in mailbox.text(sent[0])
        row = db.session.scalar(select(OutboxMail))
        assert row.sent_at is not None and row.message is None
        sweep()  # a sent mail is never sent again
        assert len(mailbox.messages()) == 1


def test_rolled_back_change_sends_nothing(app, mailbox):
    with app.app_context():
        _queue()
        db.session.rollback()
        db.session.commit()
        assert mailbox.messages() == []
        assert db.session.scalar(select(db.func.count()).select_from(OutboxMail)) == 0


def test_refused_mail_is_sent_by_the_sweep_after_the_server_recovers(make_app):
    with SmtpSink() as sink:
        app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port)
        sink.mode = "refuse"
        with app.app_context():
            _queue("verein@example.org")
            db.session.commit()
            assert sink.to("verein@example.org") == []
            row = db.session.scalar(select(OutboxMail))
            assert row.attempts == 1 and row.sent_at is None
            assert "550" in row.last_error
            sink.mode = "accept"
            sweep()  # not due yet: the backoff holds it
            assert sink.to("verein@example.org") == []
            db.session.execute(
                update(OutboxMail).values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
            db.session.commit()
            sweep()
            assert len(sink.to("verein@example.org")) == 1
            sweep()
            assert len(sink.to("verein@example.org")) == 1
