"""The booking journey: hold, e-mail confirmation, approval, decline, cancellation, expiry, mail."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from buchung.models import Booking, BookingNotice
from lotse.extensions import db
from lotse.models import utcnow
from tests.buchung.conftest import next_weekday
from tests.buchung.test_rules import booking_data
from tests.mailbox import Mailbox

pytestmark = pytest.mark.both_dbs

DAY = next_weekday(3)


def calendar_of(message) -> Calendar:
    (attachment,) = [p for p in message.iter_attachments() if p.get_filename() == "buchung.ics"]
    return Calendar.from_ical(attachment.get_content())


def private_link(message) -> str:
    """The booker's private page, from a mail (path only, for the test client)."""
    (link,) = {link for link in Mailbox.links(message) if "/buchung/b/" in link}
    return urlsplit(link).path


@pytest.fixture
def guest_books(form_post, mailbox):
    """A guest books through the form; returns the private link from the mail."""

    def books(resource_id: int, **overrides) -> str:
        response = form_post(f"/buchung/{resource_id}/buchen", booking_data(DAY, **overrides))
        assert response.status_code == 302, response.get_data(as_text=True)
        return private_link(mailbox.latest())

    return books


def state(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Booking.status).order_by(Booking.id)))


def test_guest_confirms_and_gets_calendar_file(
    app, client, form_post, make_resource, guest_books, counts, mailbox
):
    resource_id = make_resource()
    link = guest_books(resource_id)
    hold_mail = mailbox.latest()
    assert hold_mail["Subject"] == "Bitte bestätigen Sie Ihre Buchung"
    held = calendar_of(hold_mail)  # the hold is tentative in the guest's calendar
    assert str(held["method"]) == "REQUEST"
    assert str(held.walk("VEVENT")[0]["status"]) == "TENTATIVE"
    assert state(app) == ["held"]

    response = form_post(f"{link}/bestaetigen", {}, page=link)
    assert response.status_code == 302
    assert state(app) == ["confirmed"]
    confirmation = mailbox.latest()
    assert confirmation["To"] == "gabi@example.org"
    assert confirmation["Subject"] == "Ihre Buchung ist bestätigt"
    event = calendar_of(confirmation).walk("VEVENT")[0]
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert event["dtstart"].params["TZID"] == "Europe/Berlin"
    assert (start.date(), start.hour, start.minute, end.hour) == (DAY, 10, 0, 11)
    assert start.utcoffset() == start.astimezone(ZoneInfo("Europe/Berlin")).utcoffset()
    assert calendar_of(confirmation).walk("VTIMEZONE")
    assert str(event["status"]) == "CONFIRMED"
    # The private page offers the same file.
    ics = client.get(f"{link}/buchung.ics")
    assert ics.headers["Content-Type"].startswith("text/calendar")
    assert Calendar.from_ical(ics.data).walk("VEVENT")[0].decoded("dtstart") == start
    assert counts() == (1, 4)


@pytest.mark.parametrize("month", [3, 10])
def test_calendar_file_on_dst_nights(app, make_resource, book, month):
    from buchung.ics import booking_calendar
    from tests.buchung.test_integrity import _last_sunday

    resource_id = make_resource()
    night = _last_sunday(month)
    booking_id = book(resource_id, night, "01:00", "04:00")
    with app.test_request_context():
        event = Calendar.from_ical(booking_calendar(db.session.get(Booking, booking_id))).walk(
            "VEVENT"
        )[0]
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert (start.hour, end.hour) == (1, 4)
    assert end - start == timedelta(hours=3)  # wall clock
    assert end.astimezone(ZoneInfo("UTC")) - start.astimezone(ZoneInfo("UTC")) == timedelta(
        hours=2 if month == 3 else 4
    )


def test_approval_and_decline(
    app, form_post, make_resource, guest_books, office, book, counts, mailbox
):
    resource_id = make_resource(needs_approval=True)
    link = guest_books(resource_id)
    form_post(f"{link}/bestaetigen", {}, page=link)
    assert state(app) == ["requested"]
    subjects = [m["Subject"] for m in mailbox.messages()]
    assert "Ihre Buchungsanfrage ist eingegangen" in subjects
    office_mail = next(m for m in mailbox.messages() if m["Subject"] == "Neue Buchungsanfrage")
    assert office_mail["To"] == "sport@town.example"

    office()
    detail = "/verwaltung/buchung/buchungen/1"
    response = form_post(f"{detail}/ablehnen", {"decline-reason": ""}, page=detail)
    assert response.status_code == 400
    assert "Bitte geben Sie eine Begründung an." in response.get_data(as_text=True)
    assert state(app) == ["requested"]

    form_post(f"{detail}/genehmigen", {"approve-submit": "1"}, page=detail)
    assert state(app) == ["confirmed"]
    approved = mailbox.latest()
    assert approved["Subject"] == "Ihre Buchungsanfrage ist genehmigt"
    assert calendar_of(approved).walk("VEVENT")

    second = guest_books(resource_id, start="12:00", end="13:00")
    form_post(f"{second}/bestaetigen", {}, page=second)
    detail = "/verwaltung/buchung/buchungen/2"
    form_post(f"{detail}/ablehnen", {"decline-reason": "Halle wird renoviert."}, page=detail)
    assert state(app) == ["confirmed", "declined"]
    declined = mailbox.latest()
    assert declined["Subject"] == "Ihre Buchungsanfrage ist abgelehnt"
    assert "Halle wird renoviert." in Mailbox.text(declined)
    # The declined time is free again.
    book(resource_id, DAY, "12:00", "13:00")
    assert counts() == (3, 8)


def test_booker_cancels_and_frees_the_slot(
    app, form_post, make_resource, guest_books, book, mailbox
):
    resource_id = make_resource()
    link = guest_books(resource_id)
    form_post(f"{link}/bestaetigen", {}, page=link)
    response = form_post(f"{link}/stornieren", {}, page=link)
    assert response.status_code == 200  # cancelling asks once
    assert "Buchung wirklich stornieren?" in response.get_data(as_text=True)
    assert state(app) == ["confirmed"]
    response = form_post(f"{link}/stornieren", {"sure": "1"}, page=link)
    assert response.status_code == 302
    assert state(app) == ["cancelled"]
    assert mailbox.latest()["Subject"] == "Ihre Buchung ist storniert"
    book(resource_id, DAY, "10:00", "11:00")
    assert state(app) == ["cancelled", "held"]


def test_cancellation_deadline(app, client, form_post, make_resource, guest_books):
    app.config["BUCHUNG_CANCEL_HOURS"] = 24 * 400
    resource_id = make_resource()
    link = guest_books(resource_id)
    form_post(f"{link}/bestaetigen", {}, page=link)
    page = client.get(link).get_data(as_text=True)
    assert "Buchung stornieren" not in page
    assert "Die Frist für eine Online-Stornierung ist am" in page
    form_post(f"{link}/stornieren", {"sure": "1"}, page=link)
    assert state(app) == ["confirmed"]


def _age_holds(app) -> None:
    with app.app_context():
        for booking in db.session.scalars(select(Booking)):
            booking.hold_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()


def test_unconfirmed_hold_expires_and_frees_the_slot(
    app, runner, form_post, make_resource, guest_books, counts, book
):
    resource_id = make_resource()
    link = guest_books(resource_id)
    _age_holds(app)
    result = runner.invoke(args=["lotse", "sweep"])
    assert result.exit_code == 0, result.output
    assert state(app) == ["expired"]
    assert counts() == (1, 0)
    # Confirming afterwards is too late.
    form_post(f"{link}/bestaetigen", {}, page=link)
    assert state(app) == ["expired"]
    book(resource_id, DAY, "10:00", "11:00")
    assert state(app) == ["expired", "held"]


def test_lapsed_hold_does_not_block_before_the_sweep(app, make_resource, guest_books, counts):
    resource_id = make_resource()
    guest_books(resource_id)
    _age_holds(app)
    guest_books(resource_id, contact_email="zweite@example.org")
    assert state(app) == ["expired", "held"]
    assert counts() == (2, 4)


def test_public_pages_show_no_booker(client, make_resource, book):
    resource_id = make_resource()
    book(resource_id, DAY, "10:00", "11:00", purpose="Geheimes Treffen")
    html = client.get(f"/buchung/{resource_id}?woche={DAY.isoformat()}").get_data(as_text=True)
    assert "belegt" in html
    assert "Gabi Gast" not in html and "Geheimes Treffen" not in html
    assert client.get("/buchung/b/falsches-token").status_code == 404


def test_sweep_retries_a_failed_mail_although_rq_still_keeps_its_job(
    app, make_app, make_resource, book, redis_url
):
    """RQ keeps a failed job for days under its id: the retry needs an id of its own."""
    from rq import Queue

    from buchung import jobs
    from buchung.services.booking import mark_notice
    from lotse.queue import get_redis

    book(make_resource(), DAY, "10:00", "11:00")
    queued = make_app(REDIS_URL=redis_url)
    with queued.app_context():
        queue = Queue(queued.config["QUEUE_NAME"], connection=get_redis())
        queue.empty()
        jobs.enqueue_notices()
        notice_id = db.session.scalar(select(BookingNotice.id))
        mark_notice(notice_id, "SMTPDataError: 550")  # the first attempt failed
        db.session.commit()
        jobs.sweep()
        jobs.sweep()
        prefix = f"{queued.config['QUEUE_NAME']}-buchung-notice-{notice_id}"
        assert queue.job_ids == [f"{prefix}-0", f"{prefix}-1"]
        queue.empty()


def test_failed_mail_is_recorded_and_retried(app, make_resource, book, monkeypatch, mailbox):
    from buchung import jobs

    resource_id = make_resource()

    def broken(*args, **kwargs):
        raise OSError("Datenbank weg")

    monkeypatch.setattr(jobs, "booking_attachment", broken)
    book(resource_id, DAY, "10:00", "11:00")
    with app.app_context():
        jobs.enqueue_notices()  # runs inline (no Redis) and fails before the outbox
        notice = db.session.scalar(select(BookingNotice))
        assert notice.sent_at is None and "Datenbank weg" in notice.last_error
        monkeypatch.undo()
        notice.created_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
        jobs.sweep()
        db.session.expire_all()
        assert db.session.scalar(select(BookingNotice)).sent_at is not None
    assert [m["Subject"] for m in mailbox.messages()] == ["Bitte bestätigen Sie Ihre Buchung"]


def test_a_notice_run_by_two_jobs_is_mailed_once(app, make_resource, book, mailbox):
    """The request's job and the sweep's retry of one notice both run: one mail, whose
    Message-ID names the notice (so any copy is recognisably the same mail)."""
    from buchung import jobs

    book(make_resource(), DAY, "10:00", "11:00")
    with app.app_context():
        notice_id = db.session.scalar(select(BookingNotice.id))
        jobs.send_notice(notice_id)
        jobs.send_notice(notice_id)
        jobs.enqueue_notices()
        jobs.sweep()
    [mail] = mailbox.messages()
    assert mail["Message-ID"] == f"<buchung-notice-{notice_id}@lotse.invalid>"


def test_two_jobs_of_one_notice_at_the_same_moment_mail_once(make_app, make_resource, book):
    """The request's job and the sweep's retry of one notice run at once, the first still
    talking to the mail server: the second finds the notice handed over and sends nothing
    (before, both sent: a booking mail twice)."""
    import threading

    from buchung import jobs
    from tests.sinks import SmtpSink

    book(make_resource(), DAY, "10:00", "11:00")
    with SmtpSink() as sink:
        mailing = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port, MAIL_TIMEOUT=30)
        with mailing.app_context():
            notice_id = db.session.scalar(select(BookingNotice.id))

        def job() -> None:
            with mailing.app_context():
                jobs.send_notice(notice_id)

        sink.mode = "hold"
        first = threading.Thread(target=job)
        first.start()
        assert sink.holding.wait(20)  # the first job's mail is at the mail server
        second = threading.Thread(target=job)
        second.start()
        second.join(5)
        finished = not second.is_alive()
        sink.release.set()
        first.join(20)
        second.join(20)
        assert finished  # it did not wait for the mail server: nothing of its own to send
        assert [m["Message-ID"] for m in sink.messages] == [
            f"<buchung-notice-{notice_id}@lotse.invalid>"
        ]
