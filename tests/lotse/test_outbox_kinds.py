"""Every kind of mail survives the worst moment: Redis down and the mail server refusing when
the change that causes it happens.  It arrives exactly once after both recover, and its
link works; so does a department's webhook.  And no code path can send a mail without an
outbox row behind it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select, update

from buchung.models import Booking, BookingNotice
from lotse.extensions import db
from lotse.mail import NotAnOutboxSender, send_mail
from lotse.models import Department, utcnow
from lotse.outbox import OutboxMail
from mangel.alerts.models import AlertSubscription
from mangel.models import Report
from mangel.routing.models import Area, Delivery
from tests.buchung.conftest import CLUB_PASSWORD, make_club, make_resource, next_weekday, sport_id  # noqa: F401
from tests.buchung.test_rules import booking_data
from tests.conftest import csrf_token_from
from tests.mailbox import Mailbox
from tests.mangel.conftest import INSIDE, REPORTER, categories, make_report, report_data  # noqa: F401
from tests.sinks import SmtpSink, WebhookReceiver, free_port

pytestmark = pytest.mark.redis


class Outage:
    """One database, two apps: ``down`` (Redis dead, the mail server refusing) and ``up``."""

    def __init__(self, make_app, smtp: SmtpSink, redis_url: str) -> None:
        self.smtp = smtp
        self.webhook = WebhookReceiver().__enter__()
        self.webhook.status = 503
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
        """Redis comes back while the mail server (and the webhook receiver) still refuse;
        then they accept too.  Time passes by moving the rows' due times, not by sleeping."""
        with self.up.app_context():
            rows = db.session.scalars(select(OutboxMail)).all()
            notices = db.session.scalars(select(BookingNotice)).all()
            assert rows or notices
            assert all(r.attempts == 0 and r.sent_at is None for r in rows)
            assert all(n.attempts == 0 for n in notices)
            old = utcnow() - timedelta(minutes=1)
            db.session.execute(update(OutboxMail).values(created_at=old))
            db.session.execute(update(BookingNotice).values(created_at=old))
            db.session.commit()
        self.sweep_and_work()
        assert self.smtp.messages == []
        with self.up.app_context():
            rows = db.session.scalars(select(OutboxMail)).all()
            assert rows and all(r.attempts == 1 and "550" in r.last_error for r in rows)
            assert all(n.sent_at is not None for n in db.session.scalars(select(BookingNotice)))
            db.session.execute(update(OutboxMail).values(next_attempt_at=utcnow()))
            db.session.execute(update(Delivery).values(next_attempt_at=utcnow()))
            db.session.commit()
        self.smtp.mode = "accept"
        self.webhook.status = 200
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


def _booking_hold(outage: Outage, fx: dict):
    resource_id = fx["make_resource"]()
    client = outage.down.test_client()
    page = f"/buchung/{resource_id}/buchen"
    data = booking_data(next_weekday(3), contact_email="gabi@example.org")
    assert outage.post(client, page, data).status_code == 302

    def follow(client, mail):
        path = _path(mail, "/buchung/b/")
        assert outage.post(client, path + "/bestaetigen", {}, path).status_code == 302
        assert "bestätigt" in client.get(path).get_data(as_text=True)
        with outage.up.app_context():
            assert db.session.scalar(select(Booking.status)) == "confirmed"

    return "gabi@example.org", "Bitte bestätigen Sie Ihre Buchung", follow


def _waitlist_offer(outage: Outage, fx: dict):
    """The guest cancels while Redis and the mail server are down; the first in line gets
    the offer once both are back."""
    from buchung.services.waitlist import join

    resource_id = fx["make_resource"]()
    client = outage.down.test_client()
    day = next_weekday(3)
    with outage.up.app_context():  # booked and queued for before the outage
        from buchung.models import Resource
        from buchung.services.booking import Contact, create_booking

        resource = db.session.get(Resource, resource_id)
        booking = create_booking(
            resource,
            *_moments(day, "10:00", "11:00"),
            purpose="Training",
            contact=Contact("Gabi Gast", "gabi@example.org", "0123"),
        )
        join(resource, *_moments(day, "10:00", "11:00"), "Wilma Warte", "wilma@example.org")
        db.session.execute(update(BookingNotice).values(sent_at=utcnow()))  # told before
        db.session.commit()
        token = booking.token
    path = f"/buchung/b/{token}"
    assert outage.post(client, path + "/stornieren", {"sure": "1"}, path).status_code == 302

    def follow(client, mail):
        offer = _path(mail, "/buchung/b/")
        assert outage.post(client, offer + "/bestaetigen", {}, offer).status_code == 302
        with outage.up.app_context():
            held_for = db.session.scalar(
                select(Booking.status).where(Booking.contact_email == "wilma@example.org")
            )
            assert held_for == "confirmed"

    return "wilma@example.org", "Ein Termin von der Warteliste ist frei geworden", follow


def _club_series(outage: Outage, fx: dict):
    fx["make_club"]()
    resource_id = fx["make_resource"]()
    client = outage.down.test_client()
    login = {"email": "trainer@tv.example", "password": CLUB_PASSWORD}
    assert outage.post(client, "/buchung/verein/anmelden", login).status_code == 302
    first = next_weekday(0)
    data = {
        "resource_id": str(resource_id),
        "weekdays": str(first.weekday()),
        "start": "18:00",
        "end": "20:00",
        "every_weeks": "1",
        "first_day": first.isoformat(),
        "last_day": (first + timedelta(days=7)).isoformat(),
        "purpose": "Training",
        "book_free": "1",
    }
    assert outage.post(client, "/buchung/verein/serie/neu", data).status_code == 302

    def follow(client, mail):
        assert "2 Termine" in Mailbox.text(mail)
        assert any(p.get_filename() == "buchung.ics" for p in mail.iter_attachments())
        assert outage.post(client, "/buchung/verein/anmelden", login).status_code == 302
        home = client.get(_path(mail, "/buchung/verein"))
        assert home.status_code == 200 and "Training" in home.get_data(as_text=True)

    return "trainer@tv.example", "Ihre Serie ist eingetragen", follow


def _password_reset(outage: Outage, fx: dict):
    fx["make_club"]()
    client = outage.down.test_client()
    data = {"email": "trainer@tv.example"}
    assert outage.post(client, "/buchung/verein/passwort-vergessen", data).status_code == 302

    def follow(client, mail):
        path = _path(mail, "/buchung/verein/passwort/")
        new = {"password": "ganz-neues-passwort-42"}
        assert outage.post(client, path, new).status_code == 302
        login = {"email": "trainer@tv.example", "password": "ganz-neues-passwort-42"}
        assert outage.post(client, "/buchung/verein/anmelden", login).status_code == 302

    return "trainer@tv.example", "Neues Passwort für die Hallenbuchung", follow


def _alert_order(outage: Outage, fx: dict):
    area_id = _area(outage)
    client = outage.down.test_client()
    data = {
        "email": "nachbarin@example.org",
        "kind": "area",
        "area": str(area_id),
        "radius": "250",
        "on_new": "y",
        "frequency": "immediate",
    }
    assert outage.post(client, "/maengel/benachrichtigungen", data).status_code == 302

    def follow(client, mail):
        path = _path(mail, "/benachrichtigungen/")
        assert outage.post(client, path, {}).status_code == 200
        with outage.up.app_context():
            assert db.session.scalar(select(AlertSubscription.confirmed)) is True

    return "nachbarin@example.org", "Bitte bestätigen Sie Ihre Benachrichtigung", follow


def _alert(outage: Outage, fx: dict):
    """A neighbour's alert on a report confirmed while Redis and the mail server are down."""
    with outage.up.app_context():
        area = db.session.get(Area, _area(outage))
        db.session.add(
            AlertSubscription(
                email="nachbarin@example.org",
                kind="area",
                area_id=area.id,
                label=area.name,
                on_new=True,
                confirmed=True,
            )
        )
        db.session.commit()
    report_id = fx["make_report"](
        confirmed_at=None, confirm_token_hash=_hash("t-123"), confirm_expires_at=_hours(1)
    )
    client = outage.down.test_client()
    assert outage.post(client, "/maengel/bestaetigen/meldung/t-123", {}).status_code == 302

    def follow(client, mail):
        assert f"Nr. {report_id}" in Mailbox.text(mail)
        assert client.get(_path(mail, f"/maengel/{report_id}")).status_code == 200
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = _path(mail, "/abmelden/")
        assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
        with outage.up.app_context():
            assert db.session.scalar(select(AlertSubscription.id)) is None

    return "nachbarin@example.org", "Neue Meldung: Schlagloch", follow


def _area(outage: Outage) -> int:
    from shapely.geometry import box

    from mangel.routing.areas import store_area

    with outage.up.app_context():
        lat, lon = INSIDE
        area = store_area("Innenstadt", box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01))
        db.session.commit()
        return area.id


def _moments(day, start: str, end: str):
    from buchung.clock import local_moment
    from tests.buchung.conftest import hhmm

    return local_moment(day, hhmm(start)), local_moment(day, hhmm(end))


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
    "booking notice": _booking_hold,
    "waiting-list offer": _waitlist_offer,
    "club series": _club_series,
    "password reset": _password_reset,
    "alert order": _alert_order,
    "alert": _alert,
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_mail_arrives_once_after_redis_and_mail_server_recover(kind, make_app, redis_url, request):
    # The fixtures (imported above) give a category, its department, a report; a resource
    # and a club.
    fx = Fixtures(request)
    with SmtpSink() as smtp:
        outage = Outage(make_app, smtp, redis_url)
        try:
            to, subject, follow = KINDS[kind](outage, fx)
            assert smtp.messages == []
            outage.recover()
            [mail] = smtp.to(to)
            assert subject in str(mail["Subject"])
            follow(outage.up.test_client(), mail)
            assert len(smtp.to(to)) == 1
        finally:
            outage.webhook.__exit__(None, None, None)


class Fixtures:
    """The fixtures a kind asks for: the Mängelmelder's at once, buchung's when asked for
    (``fx["make_club"]``)."""

    def __init__(self, request) -> None:
        self.request = request
        for name in ("categories", "make_report", "report_data"):
            request.getfixturevalue(name)

    def __getitem__(self, name: str):
        return self.request.getfixturevalue(name)


def test_no_mail_leaves_without_an_outbox_row(app, mailbox):
    with app.app_context(), pytest.raises(NotAnOutboxSender):
        send_mail("buerger@example.org", "Direkt", "Ohne Zeile in der Datenbank")
    assert mailbox.messages() == []


def test_webhook_arrives_once_after_redis_and_the_receiver_recover(
    make_app, redis_url, make_user, request
):
    """An external department takes its reports by webhook: a report confirmed while Redis
    is down and the receiver answers 503 reaches it once, signed, with a working link."""
    from mangel.routing.delivery import sign
    from mangel.routing.models import DepartmentEndpoint

    fx = Fixtures(request)
    with SmtpSink() as smtp:
        outage = Outage(make_app, smtp, redis_url)
        try:
            with outage.up.app_context():
                tiefbau = db.session.scalar(
                    select(Department.id).where(Department.name == "Tiefbau")
                )
                db.session.add(
                    DepartmentEndpoint(
                        department_id=tiefbau,
                        webhook_url=outage.webhook.url,
                        webhook_secret="geteiltes-geheimnis",
                    )
                )
                db.session.commit()
            report_id = fx["make_report"](
                confirmed_at=None, confirm_token_hash=_hash("t-123"), confirm_expires_at=_hours(1)
            )
            client = outage.down.test_client()
            assert outage.post(client, "/maengel/bestaetigen/meldung/t-123", {}).status_code == 302
            assert outage.webhook.requests == []
            outage.recover()
            accepted = outage.webhook.requests[-1:]
            refused = len(outage.webhook.requests) - 1
            assert refused == 1  # the one attempt while the receiver answered 503
            [(headers, body)] = accepted
            assert headers["X-Lotse-Signature"] == sign("geteiltes-geheimnis", body)
            payload = outage.webhook.json()
            assert payload["report"]["id"] == report_id
            assert headers["Idempotency-Key"] == payload["idempotency_key"]
            make_user(departments=(tiefbau,))
            staff = outage.up.test_client()
            login = {"email": "clerk@town.example", "password": "correct horse battery"}
            assert outage.post(staff, "/anmelden", login).status_code == 302
            page = staff.get("/" + payload["report"]["url"].split("://", 1)[1].split("/", 1)[1])
            assert page.status_code == 200 and "Tiefes Loch" in page.get_data(as_text=True)
        finally:
            outage.webhook.__exit__(None, None, None)


def test_a_mail_whose_worker_died_before_taking_it_is_sent_after_the_job_timeout(
    make_app, redis_url
):
    """kill -9 of a worker that had popped a mail's job but not yet claimed its row (it was
    still starting): RQ keeps the job "started" until a maintenance minutes later.  The sweep
    hands the mail over again once the job's timeout has passed, and it arrives once."""
    from rq import SimpleWorker

    from lotse.outbox import queue_mail
    from lotse.queue import get_queue

    with SmtpSink() as smtp:
        app = make_app(
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=smtp.port,
            REDIS_URL=redis_url,
            QUEUE_NAME=f"zombie-{time.time_ns()}",
            JOB_TIMEOUT=20,
        )
        with app.app_context():
            queue_mail(
                "kim@example.org",
                "Rückmeldung zur Barrierefreiheit",
                "emails/accessibility_feedback",
                kind="lotse.accessibility_feedback",
                message="Der Kontrast ist zu schwach.",
            )
            db.session.commit()
            queue = get_queue(app)
            [job] = queue.jobs
            # A worker took the job and died before its first statement: no claim, no word.
            queue.remove(job)
            with queue.connection.pipeline() as pipe:
                job.prepare_for_execution("dead-worker", pipe)
                pipe.execute()
            db.session.execute(
                update(OutboxMail).values(created_at=utcnow() - timedelta(minutes=1))
            )
            db.session.commit()

            def sweep_and_work() -> None:
                app.test_cli_runner().invoke(args=["lotse", "sweep"])
                SimpleWorker([queue], connection=queue.connection).work(burst=True)

            sweep_and_work()
            assert smtp.messages == []  # the job may still be running: its timeout holds
            job.started_at = utcnow() - timedelta(seconds=31)
            queue.connection.hset(
                job.key, "started_at", job.started_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            )
            sweep_and_work()
            sweep_and_work()
            assert [str(m["To"]) for m in smtp.messages] == ["kim@example.org"]
            queue.empty()
