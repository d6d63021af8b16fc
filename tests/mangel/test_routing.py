"""Routing and delivery end to end: a real SMTP server and webhook receiver on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from lotse.extensions import db
from lotse.models import Department, utcnow
from lotse.outbox import OutboxMail
from mangel import services
from mangel.models import Report
from mangel.routing.models import Delivery, DepartmentEndpoint, RoutingRule
from mangel.signals import report_rerouted
from tests.conftest import csrf_token_from
from tests.mangel.conftest import INSIDE
from tests.sinks import SmtpSink, WebhookReceiver, free_port

FALLBACK = "eingang@town.example"
KREIS = {"name": "Landkreis", "email": "kreisstrassen@kreis.example"}


def square(name: str, lat: float, lon: float, half: float = 0.002) -> dict:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


@pytest.fixture
def smtp():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def mail_config(smtp) -> dict:
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MANGEL_FALLBACK_EMAIL": FALLBACK,
        "MANGEL_REPLY_TO": "maengel+{report_id}@town.example",
    }


@pytest.fixture
def app(make_app, mail_config):
    return make_app(**mail_config)


@pytest.fixture
def new_report(app, categories):
    """An unconfirmed report with a known confirmation token: returns (id, token)."""

    def make(point=INSIDE, category="light", **kw) -> tuple[int, str]:
        token = f"token-{time.monotonic_ns()}"
        with app.app_context():
            report = Report(
                category_id=categories[category],
                lat=point[0],
                lon=point[1],
                street="Hauptstraße",
                description="Laterne dunkel",
                reporter_name="Erika Mustermann",
                reporter_email="erika@example.org",
                confirm_token_hash=services.hash_token(token),
                confirm_expires_at=utcnow() + timedelta(hours=1),
                **kw,
            )
            db.session.add(report)
            db.session.commit()
            return report.id, token

    return make


def confirm(app, report_id: int) -> None:
    """What the confirmation view does: confirm, commit (and so enqueue after the commit)."""
    with app.app_context():
        services.confirm_report(db.session.get(Report, report_id))
        db.session.commit()


def deliveries(app, report_id: int) -> list[dict]:
    with app.app_context():
        rows = db.session.scalars(
            select(Delivery).where(Delivery.report_id == report_id).order_by(Delivery.id)
        )
        return [
            {c.key: getattr(row, c.key) for c in Delivery.__table__.columns}
            | {"department": row.department.name if row.department else None}
            for row in rows
        ]


@pytest.fixture
def kreis_area(app, categories, runner, tmp_path) -> int:
    """The Landkreis's corridor around INSIDE, with a rule for street lights there."""
    path = tmp_path / "gebiete.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [square("Kreisstraße 12", *INSIDE)]})
    )
    result = runner.invoke(args=["lotse", "import-areas", str(path)])
    assert "1 Gebiete importiert" in result.output, result.output
    with app.app_context():
        from mangel.routing.models import Area

        department = Department(**KREIS, is_external=True)
        area = db.session.scalar(select(Area))
        db.session.add(
            RoutingRule(category_id=categories["light"], area=area, department=department)
        )
        db.session.commit()
        return department.id


@pytest.mark.both_dbs
def test_area_rule_wins_over_category_default_and_mail_arrives_once(
    app, kreis_area, new_report, smtp
):
    inside, _ = new_report()
    elsewhere, _ = new_report(point=(INSIDE[0] + 0.01, INSIDE[1]))
    confirm(app, inside)
    confirm(app, elsewhere)

    [mail] = smtp.to(KREIS["email"])
    assert [d["department"] for d in deliveries(app, inside)] == ["Landkreis"]
    assert [d["state"] for d in deliveries(app, inside)] == ["sent"]
    assert len(smtp.to("tiefbau@town.example")) == 1
    text = mail.get_body(("plain",)).get_content()
    assert f"http://localhost/verwaltung/maengel/meldungen/{inside}" in text
    assert "Laterne dunkel" in text and "Erika Mustermann" in text
    assert mail.get_body(("html",)) is not None
    assert mail["Reply-To"] == f"maengel+{inside}@town.example"
    assert mail["Message-ID"].startswith(f"<mangel-delivery-{deliveries(app, inside)[0]['id']}-")


def test_no_rule_and_no_default_goes_to_fallback_inbox(app, categories, new_report, smtp):
    with app.app_context():
        from mangel.models import Category

        for category in db.session.scalars(select(Category)):
            category.department_id = None
        db.session.commit()
    report_id, _ = new_report()
    confirm(app, report_id)
    assert len(smtp.to(FALLBACK)) == 1
    assert deliveries(app, report_id)[0]["department"] is None


@pytest.mark.both_dbs
def test_webhook_gets_one_signed_request(app, categories, new_report):
    with WebhookReceiver() as hook, app.app_context():
        department = db.session.scalar(select(Department).where(Department.name == "Tiefbau"))
        db.session.add(
            DepartmentEndpoint(
                department_id=department.id, webhook_url=hook.url, webhook_secret="geheim"
            )
        )
        db.session.commit()
        report_id, _ = new_report()
        confirm(app, report_id)
        [(headers, body)] = hook.requests
    expected = "sha256=" + hmac.new(b"geheim", body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Lotse-Signature"], expected)
    [row] = deliveries(app, report_id)
    assert headers["Idempotency-Key"] == row["idempotency_key"]
    assert json.loads(body)["report"]["id"] == report_id
    assert row["state"] == "sent" and row["method"] == "webhook"


@pytest.mark.both_dbs
def test_external_department_with_only_a_webhook_gets_signed_json_and_no_mail(
    app, categories, new_report, smtp, runner
):
    with app.app_context():
        operator = Department(name="Netzbetreiber", email="", is_external=True)
        db.session.add(RoutingRule(category_id=categories["light"], department=operator))
        db.session.commit()
    with WebhookReceiver() as hook:
        result = runner.invoke(
            args=["lotse", "department-webhook", "Netzbetreiber", "--url", hook.url]
        )
        assert result.exit_code == 0, result.output
        secret = result.output.split("X-Lotse-Signature: ")[1].strip()
        report_id, _ = new_report()
        confirm(app, report_id)
        [(headers, body)] = hook.requests
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Lotse-Signature"], expected)
    assert smtp.messages == []
    [row] = deliveries(app, report_id)
    assert (row["department"], row["method"], row["state"]) == ("Netzbetreiber", "webhook", "sent")


def test_department_webhook_command_sets_and_removes_a_webhook(app, categories, runner):
    def endpoint():
        with app.app_context():
            return db.session.scalar(select(DepartmentEndpoint.webhook_url))

    args = ["lotse", "department-webhook", "Tiefbau"]
    assert runner.invoke(args=[*args, "--url", "ftp://x"]).exit_code != 0
    assert (
        "gibt es nicht" in runner.invoke(args=[*args[:2], "Nirgends", "--url", "https://x"]).output
    )
    result = runner.invoke(args=[*args, "--url", "https://tb.example/hook", "--secret", "s3"])
    assert result.exit_code == 0 and "Geheimnis" not in result.output
    assert endpoint() == "https://tb.example/hook"
    result = runner.invoke(args=[*args, "--remove"])
    assert "per E-Mail an tiefbau@town.example" in result.output
    assert endpoint() is None


def test_department_without_any_address_reaches_the_fallback_inbox_replying_there(
    make_app, mail_config, categories, new_report, smtp
):
    app = make_app(**{**mail_config, "MANGEL_REPLY_TO": None})
    with app.app_context():
        db.session.add(
            RoutingRule(
                category_id=categories["light"],
                department=Department(name="Bauhof Nord", email="", is_external=True),
            )
        )
        db.session.commit()
    report_id, _ = new_report()
    confirm(app, report_id)
    [mail] = smtp.to(FALLBACK)
    assert mail["Reply-To"] == FALLBACK
    assert deliveries(app, report_id)[0]["department"] == "Bauhof Nord"


@pytest.mark.both_dbs
def test_redis_down_at_confirmation_then_sweep_delivers_once(
    make_app, mail_config, categories, new_report, smtp, redis_url, client
):
    down = make_app(**mail_config, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    report_id, token = new_report()
    citizen = down.test_client()
    page = citizen.get(f"/maengel/bestaetigen/meldung/{token}")
    started = time.monotonic()
    response = citizen.post(
        f"/maengel/bestaetigen/meldung/{token}",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True))},
    )
    assert time.monotonic() - started < 3
    assert response.status_code == 302
    assert [d["state"] for d in deliveries(down, report_id)] == ["pending"]
    assert smtp.to("tiefbau@town.example") == []
    # the citizen's tracking link is an outbox row too: it waits for the sweep as well
    assert smtp.to("erika@example.org") == []

    up = make_app(**mail_config, REDIS_URL=redis_url)
    with up.app_context():  # a minute later: the sweep leaves fresh rows to their own job
        db.session.execute(update(OutboxMail).values(created_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    runner = up.test_cli_runner()
    runner.invoke(args=["lotse", "sweep"])
    runner.invoke(args=["lotse", "sweep"])  # a second sweep must not queue a second send
    run_worker(up)
    assert len(smtp.to("tiefbau@town.example")) == 1
    assert len(smtp.to("erika@example.org")) == 1
    assert [(d["state"], d["attempts"]) for d in deliveries(up, report_id)] == [("sent", 1)]


def test_job_that_failed_before_its_bookkeeping_is_queued_again_by_the_sweep(
    make_app, mail_config, categories, new_report, smtp, redis_url, tmp_path
):
    queue_name = f"db-away-{time.time_ns()}"
    app = make_app(**mail_config, REDIS_URL=redis_url, QUEUE_NAME=queue_name)
    report_id, _ = new_report()
    confirm(app, report_id)  # queued; no worker yet
    db_away = make_app(
        **mail_config,
        REDIS_URL=redis_url,
        QUEUE_NAME=queue_name,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'missing' / 'x.sqlite3'}",
    )
    run_worker(db_away)  # the job fails: the database cannot be reached
    assert smtp.messages == []
    assert [(d["state"], d["attempts"]) for d in deliveries(app, report_id)] == [("pending", 0)]

    app.test_cli_runner().invoke(args=["lotse", "sweep"])
    run_worker(app)
    assert len(smtp.to("tiefbau@town.example")) == 1
    assert [(d["state"], d["attempts"]) for d in deliveries(app, report_id)] == [("sent", 1)]


def run_worker(app) -> None:
    """Drain the app's queue in this process (a burst worker in the app's context)."""
    from rq import SimpleWorker

    from lotse.queue import get_queue

    with app.app_context():
        queue = get_queue(app)
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_smtp_refusal_is_recorded_with_backoff_then_succeeds(app, new_report, smtp):
    smtp.mode = "refuse"
    report_id, _ = new_report()
    confirm(app, report_id)
    [row] = deliveries(app, report_id)
    assert (row["state"], row["attempts"]) == ("pending", 1)
    assert "550" in row["last_error"]
    assert timedelta(minutes=4) < row["next_attempt_at"] - utcnow() <= timedelta(minutes=5)

    make_due(app, report_id)
    app.test_cli_runner().invoke(args=["lotse", "sweep"])
    [row] = deliveries(app, report_id)
    assert row["attempts"] == 2
    assert timedelta(minutes=29) < row["next_attempt_at"] - utcnow() <= timedelta(minutes=30)

    smtp.mode = "accept"
    make_due(app, report_id)
    app.test_cli_runner().invoke(args=["lotse", "sweep"])
    [row] = deliveries(app, report_id)
    assert (row["state"], row["attempts"]) == ("sent", 3)
    assert len(smtp.to("tiefbau@town.example")) == 1


def make_due(app, report_id: int) -> None:
    """Let the backoff pass."""
    with app.app_context():
        for row in db.session.scalars(select(Delivery).where(Delivery.report_id == report_id)):
            row.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()


@pytest.mark.both_dbs
def test_category_change_reroutes_and_resends_with_history(app, categories, new_report, smtp):
    report_id, _ = new_report()
    confirm(app, report_id)
    with app.app_context():
        from mangel.models import Category

        gruen = Department(name="Grünflächen", email="gruen@town.example")
        tree = Category(name="Baum", parent_id=categories["main"], department=gruen)
        db.session.add(tree)
        db.session.flush()
        report = db.session.get(Report, report_id)
        report.category_id = tree.id
        db.session.flush()
        db.session.refresh(report, ["category"])
        report_rerouted.send(report, reason="Kategorie geändert", staff_user=None)
        db.session.commit()
    rows = deliveries(app, report_id)
    assert [(d["purpose"], d["department"], d["state"]) for d in rows] == [
        ("department", "Tiefbau", "sent"),
        ("department", "Grünflächen", "sent"),
        ("forwarded", "Grünflächen", "sent"),
    ]
    assert rows[1]["reason"] == "Kategorie geändert"
    assert len(smtp.to("gruen@town.example")) == 1
    assert len(smtp.to("tiefbau@town.example")) == 1
    [note] = smtp.to("erika@example.org")
    assert "weitergeleitet" in note["Subject"]


def start_worker(app, smtp, database_url: str, *args: str, **env: str) -> subprocess.Popen:
    """A real ``flask lotse worker`` process on this test's database, queue and SMTP sink."""
    env = {
        **env,
        **os.environ,
        "DATABASE_URL": database_url,
        "LOTSE_PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "LOTSE_QUEUE_NAME": app.config["QUEUE_NAME"],
        "LOTSE_MAIL_SERVER": "127.0.0.1",
        "LOTSE_MAIL_PORT": str(smtp.port),
        "LOTSE_MANGEL_DELIVERY_LEASE_SECONDS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "lotse", "worker", *args],
        cwd=Path(__file__).parents[2],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_with_children(pid: int) -> None:
    """SIGKILL a worker and its work horse (RQ puts the horse in a process group of its own)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # the parent pid
            os.kill(int(stat.parent.name), signal.SIGKILL)
    os.killpg(pid, signal.SIGKILL)


@pytest.mark.parametrize("db_backend", ["postgres"], indirect=True)
def test_worker_killed_mid_send_is_completed_once_by_the_next(
    make_app, mail_config, categories, new_report, smtp, redis_url, database_url
):
    app = make_app(**mail_config, REDIS_URL=redis_url)
    smtp.mode = "hold"
    worker = start_worker(app, smtp, database_url)
    try:
        report_id, _ = new_report()
        confirm(app, report_id)
        assert smtp.holding.wait(30), "the worker never reached the SMTP server"
        kill_with_children(worker.pid)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    time.sleep(0.5)  # the server sees the dead client's connection close
    smtp.mode = "accept"
    smtp.release.set()
    [row] = deliveries(app, report_id)
    assert (row["state"], row["attempts"]) == ("sending", 1)

    time.sleep(1.1)  # the lease of the dead worker runs out
    app.test_cli_runner().invoke(args=["lotse", "sweep"])
    second = start_worker(app, smtp, database_url, "--burst")
    assert second.wait(60) == 0
    assert len(smtp.to("tiefbau@town.example")) == 1
    [row] = deliveries(app, report_id)
    assert (row["state"], row["attempts"]) == ("sent", 2)


def test_status_change_mails_reporter_and_follow_up_reopens(
    app, new_report, smtp, client, form_post
):
    from mangel.models import StatusChange
    from mangel.signals import report_status_changed

    report_id, _ = new_report()
    confirm(app, report_id)
    with app.app_context():
        report = db.session.get(Report, report_id)
        report.status = "fixed"
        change = StatusChange(status="fixed", public_note="Lampe getauscht.")
        report.history.append(change)
        db.session.flush()
        report_status_changed.send(report, change=change)
        db.session.commit()
    [status_mail] = smtp.to("erika@example.org")
    assert "erledigt" in status_mail.get_body(("plain",)).get_content()
    follow_up = deliveries(app, report_id)[-1]
    assert (follow_up["purpose"], follow_up["state"]) == ("follow_up", "pending")
    assert follow_up["next_attempt_at"] - utcnow() > timedelta(weeks=4) - timedelta(minutes=1)

    make_due(app, report_id)
    app.test_cli_runner().invoke(args=["lotse", "sweep"])
    mail = smtp.to("erika@example.org")[-1]
    assert "Ist es behoben" in mail["Subject"]
    link = re.search(
        r"http://localhost(/\S*wieder-oeffnen/\S+)", mail.get_body(("plain",)).get_content()
    )
    response = form_post(link.group(1))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Report, report_id).status == "open"
    assert len(smtp.to("tiefbau@town.example")) == 2
    assert client.get("/maengel/wieder-oeffnen/falsch").status_code == 404


def test_admin_sees_failed_delivery_retries_it_and_gets_one_daily_summary(
    app, new_report, smtp, client, auth, make_user, form_post
):
    make_user(email="admin@town.example", roles=("admin",))
    smtp.mode = "refuse"
    report_id, _ = new_report()
    confirm(app, report_id)
    app.test_cli_runner().invoke(args=["lotse", "sweep"])
    app.test_cli_runner().invoke(args=["lotse", "sweep"])
    assert smtp.messages == []  # refused, the summary too: it waits in the outbox

    auth.login("admin@town.example")
    page = client.get("/verwaltung/maengel/zustellungen").get_data(as_text=True)
    assert "550" in page and "Jetzt erneut senden" in page
    # The summary mail is listed with the deliveries, in German, with its retry.
    assert "E-Mails, die noch nicht angekommen sind" in page
    assert "Tägliche Übersicht hängender Zustellungen" in page
    assert "fehlgeschlagen – nächster Versuch" in page and "admin@town.example" in page
    assert "Der Mailserver hat" in page  # the error in words, the technical one folded
    smtp.mode = "accept"
    with app.app_context():
        mail_id = db.session.scalar(select(OutboxMail.id))
    url = f"/verwaltung/maengel/zustellungen/mail/{mail_id}/erneut"
    assert client.post(url).status_code == 400  # no CSRF token
    response = form_post(url, page="/verwaltung/maengel/zustellungen")
    assert response.status_code == 302
    page = client.get("/verwaltung/maengel/zustellungen").get_data(as_text=True)
    assert f"Die E-Mail Nr. {mail_id} wird jetzt erneut versucht." in page
    assert "Alle E-Mails sind angekommen." in page
    [summary] = smtp.to("admin@town.example")
    assert "hängen" in summary["Subject"]
    assert f"Meldung Nr. {report_id}" in summary.get_body(("plain",)).get_content()

    [row] = deliveries(app, report_id)
    url = f"/verwaltung/maengel/zustellungen/{row['id']}/erneut"
    assert client.post(url).status_code == 400  # no CSRF token
    response = form_post(url, page="/verwaltung/maengel/zustellungen")
    assert response.status_code == 302
    [row] = deliveries(app, report_id)
    assert (row["state"], row["attempts"]) == ("sent", 2)
    assert len(smtp.to("tiefbau@town.example")) == 1
    app.test_cli_runner().invoke(args=["lotse", "sweep"])
    assert len(smtp.to("admin@town.example")) == 1  # once a day
    assert client.get("/verwaltung/maengel/zustellungen").status_code == 200


def test_deliveries_page_is_for_admins_only(app, client, auth, make_user):
    make_user()
    auth.login()
    assert client.get("/verwaltung/maengel/zustellungen").status_code == 403


def test_department_mail_carries_the_photos_and_respects_the_staging_switch(
    make_app, mail_config, categories, smtp
):
    from mangel.models import ReportPhoto

    app = make_app(**mail_config, MAIL_REDIRECT_TO="staging@town.example")
    with app.app_context():
        folder = services.upload_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "a.jpg").write_bytes(b"\xff\xd8jpeg")
        report = Report(category_id=categories["pothole"], lat=INSIDE[0], lon=INSIDE[1])
        report.photos.append(
            ReportPhoto(file_name="a.jpg", thumb_name="a_t.jpg", width=1, height=1)
        )
        db.session.add(report)
        db.session.flush()
        services.confirm_report(report)
        db.session.commit()
    [mail] = smtp.messages
    assert mail["To"] == "staging@town.example"
    assert mail["X-Lotse-Original-To"] == "tiefbau@town.example"
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "a.jpg"
    assert attachment.get_content() == b"\xff\xd8jpeg"


@pytest.mark.parametrize("db_backend", ["postgres"], indirect=True)
def test_workers_cron_delivers_what_redis_missed_once_without_a_manual_sweep(
    make_app, mail_config, categories, new_report, smtp, redis_url, database_url
):
    down = make_app(**mail_config, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    reports = [new_report()[0] for _ in range(3)]
    for report_id in reports:
        confirm(down, report_id)
    assert [d["state"] for r in reports for d in deliveries(down, r)] == ["pending"] * 3

    app = make_app(**mail_config, REDIS_URL=redis_url, QUEUE_NAME=f"cron-{time.time_ns()}")
    # Two workers, so two crons enqueue the sweep every second.
    workers = [start_worker(app, smtp, database_url, LOTSE_SWEEP_INTERVAL="1") for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while len(smtp.to("tiefbau@town.example")) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # a few more sweeps, which must find nothing left to send
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(20)
    assert len(smtp.to("tiefbau@town.example")) == 3
    assert sorted(m["Message-ID"] for m in smtp.messages) == sorted(
        {m["Message-ID"] for m in smtp.messages}
    )
    assert [(d["state"], d["attempts"]) for r in reports for d in deliveries(app, r)] == [
        ("sent", 1)
    ] * 3
    assert not any(_cron_processes_of(worker.pid) for worker in workers)


def _cron_processes_of(pid: int) -> list[int]:
    """Processes left over in a worker's process group (the cron must end with it)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pid and fields[0] != "Z":  # process group, state
            found.append(int(stat.parent.name))
    return found


def test_scheduled_sweep_runs_once_per_interval_however_many_crons_enqueue_it(make_app, redis_url):
    from lotse.hooks import register_sweep
    from lotse.queue import scheduled_sweep

    app = make_app(REDIS_URL=redis_url, SWEEP_INTERVAL=5, QUEUE_NAME=f"sweep-{time.time_ns()}")
    runs = []
    register_sweep(app, lambda: runs.append(time.monotonic()))
    with app.app_context():
        while time.time() % 5 > 1:  # both calls early in the same interval
            time.sleep(0.05)
        interval = time.time() // 5
        scheduled_sweep()
        scheduled_sweep()
        assert time.time() // 5 == interval
        assert len(runs) == 1
        time.sleep(5 - time.time() % 5)
        scheduled_sweep()
    assert len(runs) == 2
