"""Every kind of mail survives the worst moment: Redis down and the mail server refusing when
the change that causes it happens.  It arrives exactly once after both recover, and its
link works.  And no code path can send a mail without an outbox row behind it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select, update

from lotse.extensions import db
from lotse.mail import NotAnOutboxSender, send_mail
from lotse.models import Department, utcnow
from lotse.outbox import OutboxMail
from mangel.models import Report
from tests.conftest import csrf_token_from
from tests.mailbox import Mailbox
from tests.mangel.conftest import INSIDE, REPORTER, categories, make_report, report_data  # noqa: F401
from tests.sinks import SmtpSink, free_port

pytestmark = pytest.mark.redis


class Outage:
    """One database, two apps: ``down`` (Redis dead, the mail server refusing) and ``up``."""

    def __init__(self, make_app, smtp: SmtpSink, redis_url: str) -> None:
        self.smtp = smtp
        mail = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port}
        queue = f"outage-{time.time_ns()}"
        dead = f"redis://127.0.0.1:{free_port()}/0"
        self.down = make_app(**mail, REDIS_URL=dead, QUEUE_NAME=queue)
        self.up = make_app(**mail, REDIS_URL=redis_url, QUEUE_NAME=queue)
        smtp.mode = "refuse"

    def post(self, client, url: str, data: dict, page: str | None = None):
        token = csrf_token_from(client.get(page or url).get_data(as_text=True))
        return client.post(url, data={"csrf_token": token, **data})

    def recover(self) -> None:
        """Redis comes back while the mail server still refuses; then the mail server too.
        Time passes by moving the rows' due times, not by sleeping."""
        with self.up.app_context():
            rows = db.session.scalars(select(OutboxMail)).all()
            assert rows and all(r.attempts == 0 and r.sent_at is None for r in rows)
            db.session.execute(
                update(OutboxMail).values(created_at=utcnow() - timedelta(minutes=1))
            )
            db.session.commit()
        self.sweep_and_work()
        assert self.smtp.messages == []
        with self.up.app_context():
            rows = db.session.scalars(select(OutboxMail)).all()
            assert all(r.attempts == 1 and "550" in r.last_error for r in rows)
            db.session.execute(update(OutboxMail).values(next_attempt_at=utcnow()))
            db.session.commit()
        self.smtp.mode = "accept"
        self.sweep_and_work()
        self.sweep_and_work()  # a second sweep sends nothing twice

    def sweep_and_work(self) -> None:
        from rq import SimpleWorker

        from lotse.queue import get_queue

        self.up.test_cli_runner().invoke(args=["lotse", "sweep"])
        with self.up.app_context():
            queue = get_queue(self.up)
            SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _path(mail: EmailMessage, part: str) -> str:
    link = next(u for u in Mailbox.links(mail) if part in u)
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def _report_confirmation(outage: Outage, fx: dict):
    client = outage.down.test_client()
    page = (
        f"/maengel/neu/angaben?category={fx['categories']['light']}"
        f"&lat={INSIDE[0]}&lon={INSIDE[1]}&new=1"
    )
    data = fx["report_data"]()
    data.pop("csrf_token", None)
    assert outage.post(client, "/maengel/neu/angaben", data, page).status_code == 302

    def follow(client, mail):
        path = _path(mail, "/bestaetigen/meldung/")
        response = outage.post(client, path, {})
        assert response.status_code == 302 and "/verfolgen/" in response.headers["Location"]

    return data["email"], "Bitte bestätigen Sie Ihre Meldung", follow


def _tracking_link(outage: Outage, fx: dict):
    report_id = fx["make_report"](
        confirmed_at=None, confirm_token_hash=_hash("t-123"), confirm_expires_at=_hours(1)
    )
    client = outage.down.test_client()
    assert outage.post(client, "/maengel/bestaetigen/meldung/t-123", {}).status_code == 302

    def follow(client, mail):
        page = client.get(_path(mail, "/verfolgen/"))
        assert page.status_code == 200 and "Tiefes Loch" in page.get_data(as_text=True)

    return REPORTER["email"], f"Ihre Meldung Nr. {report_id} ist eingegangen", follow


def _support_confirmation(outage: Outage, fx: dict):
    report_id = fx["make_report"]()
    client = outage.down.test_client()
    page = f"/maengel/{report_id}"
    response = outage.post(client, f"{page}/unterstuetzen", {"email": "nachbar@example.org"}, page)
    assert response.status_code == 302

    def follow(client, mail):
        assert (
            outage.post(client, _path(mail, "/bestaetigen/unterstuetzung/"), {}).status_code == 302
        )
        assert "<dd>1</dd>" in client.get(page).get_data(as_text=True)
        with outage.up.app_context():  # "Ihre E-Mail-Adresse speichern wir nicht"
            assert db.session.scalar(select(OutboxMail.recipient)) == ""

    return "nachbar@example.org", "Bitte bestätigen Sie Ihre Unterstützung", follow


def _accessibility_feedback(outage: Outage, fx: dict):
    client = outage.down.test_client()
    data = {"message": "Der Kontrast ist zu schwach.", "email": "kim@example.org"}
    assert outage.post(client, "/barrierefreiheit", data).status_code == 302

    def follow(client, mail):
        assert "Der Kontrast ist zu schwach." in Mailbox.text(mail)
        assert mail["Reply-To"] == "kim@example.org"

    return "barrierefreiheit@musterstadt.example", "Rückmeldung zur Barrierefreiheit", follow


def _club_confirmation(outage: Outage, fx: dict):
    client = outage.down.test_client()
    data = {
        "club_name": "SV Blau-Weiß",
        "register_number": "VR 42",
        "contact_persons": "Olaf Obmann",
        "name": "Olaf Obmann",
        "email": "olaf@sv.example",
        "password": "sehr-geheim-123",
    }
    assert outage.post(client, "/buchung/verein/registrieren", data).status_code == 200

    def follow(client, mail):
        response = outage.post(client, _path(mail, "/bestaetigen/"), {})
        assert response.status_code == 302
        login = {"email": "olaf@sv.example", "password": "sehr-geheim-123"}
        assert outage.post(client, "/buchung/verein/anmelden", login).status_code == 302

    return "olaf@sv.example", "Bitte bestätigen Sie Ihre E-Mail-Adresse", follow


def _reminder(outage: Outage, fx: dict):
    old = utcnow() - timedelta(days=30)
    with outage.up.app_context():
        tiefbau = db.session.scalar(select(Department.id).where(Department.name == "Tiefbau"))
    report_id = fx["make_report"](created_at=old, updated_at=old, department_id=tiefbau)
    outage.down.test_cli_runner().invoke(args=["lotse", "sweep"])

    def follow(client, mail):
        assert f"/meldungen/{report_id}" in Mailbox.text(mail)
        with outage.up.app_context():
            assert db.session.get(Report, report_id).reminded_at is not None

    return "tiefbau@town.example", "1 Meldungen warten auf Bearbeitung", follow


def _hash(token: str) -> str:
    from mangel.services import hash_token

    return hash_token(token)


def _hours(n: int):
    return utcnow() + timedelta(hours=n)


KINDS: dict[str, Callable] = {
    "report confirmation": _report_confirmation,
    "tracking link": _tracking_link,
    "support confirmation": _support_confirmation,
    "accessibility feedback": _accessibility_feedback,
    "club confirmation": _club_confirmation,
    "department reminder": _reminder,
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_mail_arrives_once_after_redis_and_mail_server_recover(kind, make_app, redis_url, request):
    # The Mängelmelder's fixtures (imported above) give a category, its department, a report.
    fx = {
        name: request.getfixturevalue(name) for name in ("categories", "make_report", "report_data")
    }
    with SmtpSink() as smtp:
        outage = Outage(make_app, smtp, redis_url)
        to, subject, follow = KINDS[kind](outage, fx)
        assert smtp.messages == []
        outage.recover()
        [mail] = smtp.to(to)
        assert subject in str(mail["Subject"])
        follow(outage.up.test_client(), mail)
        assert len(smtp.to(to)) == 1


def test_no_mail_leaves_without_an_outbox_row(app, mailbox):
    with app.app_context(), pytest.raises(NotAnOutboxSender):
        send_mail("buerger@example.org", "Direkt", "Ohne Zeile in der Datenbank")
    assert mailbox.messages() == []
