"""Confirmation mails have no outbox row: Redis down or a refusing mail server must not lose them."""

from __future__ import annotations

from rq import Queue
from rq.registry import ScheduledJobRegistry

from lotse.extensions import db
from mangel.jobs import send_report_confirmation
from mangel.models import Report
from tests.mangel.conftest import INSIDE, count_rows, link_in, sent_mails
from tests.sinks import SmtpSink, free_port


def test_report_taken_and_link_mailed_while_redis_is_down(make_app, categories, report_data):
    """Queue and rate-limit storage unreachable: no 500, and the mail goes out from the request."""
    from tests.conftest import csrf_token_from

    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = make_app(REDIS_URL=dead, RATELIMIT_STORAGE_URI=dead)
    client = app.test_client()
    page = client.get(
        f"/maengel/neu/angaben?category={categories['light']}&lat={INSIDE[0]}&lon={INSIDE[1]}&new=1"
    ).get_data(as_text=True)
    response = client.post(
        "/maengel/neu/angaben", data=report_data(csrf_token=csrf_token_from(page))
    )
    assert response.status_code == 302
    assert count_rows(app)["report"] == 1
    [mail] = sent_mails(app)
    assert "Bitte bestätigen Sie Ihre Meldung" in mail["Subject"]

    confirm_path = link_in(mail, "/bestaetigen/meldung/")
    page = client.get(confirm_path).get_data(as_text=True)
    response = client.post(confirm_path, data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    assert "ist eingegangen" in sent_mails(app)[-1]["Subject"]


def test_refused_confirmation_mail_is_tried_again_later(make_app, categories, redis_url):
    with SmtpSink() as smtp:
        smtp.mode = "refuse"
        app = make_app(REDIS_URL=redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
        with app.app_context():
            report = Report(
                category_id=categories["light"],
                lat=INSIDE[0],
                lon=INSIDE[1],
                reporter_email="erika@example.org",
            )
            db.session.add(report)
            db.session.commit()
            send_report_confirmation(report.id, "the-token")  # does not raise
            queue = Queue(app.config["QUEUE_NAME"], connection=_redis(redis_url))
            registry = ScheduledJobRegistry(queue=queue)
            [job_id] = registry.get_job_ids()
            job = queue.fetch_job(job_id)
            assert job.args == ("mangel.jobs.send_report_confirmation", report.id, "the-token", 1)
            job.delete()

            smtp.mode = "accept"
            send_report_confirmation(*job.args[1:])
        assert [m["To"] for m in smtp.messages] == ["erika@example.org"]


def _redis(url: str):
    import redis

    return redis.Redis.from_url(url)
