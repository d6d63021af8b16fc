"""Webhooks of departments on an admin page (issue 22): https only, the secret shown once,
a test delivery, and failed deliveries in German words."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta

import pytest
from flask_babel import format_time
from sqlalchemy import select

from lotse.extensions import db
from lotse.models import utcnow
from tests.sinks import WebhookReceiver, free_port

pytestmark = pytest.mark.both_dbs

URL = "/verwaltung/maengel/webhooks"


@pytest.fixture
def admin(auth, make_user, make_department):
    department = make_department("Netzbetreiber")
    make_user(email="admin@town.example", roles=("admin",))
    auth.login(email="admin@town.example")
    return department.id


def secret_in(html: str) -> str | None:
    match = re.search(r'<code class="secret">([^<]+)</code>', html)
    return match.group(1) if match else None


def test_http_is_refused_with_a_german_message(client, admin, form_post):
    response = form_post(URL, {"department_id": str(admin), "url": "http://netz.example/hook"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Bitte geben Sie eine Adresse mit https:// an" in html
    assert 'value="http://netz.example/hook"' in html  # the input stays
    assert "Noch keine Webhooks" in html


def test_cli_refuses_http_too(app, runner, admin):
    result = runner.invoke(
        args=["lotse", "department-webhook", "Netzbetreiber", "--url", "http://netz.example/x"]
    )
    assert result.exit_code != 0 and "https://" in result.output


def test_secret_is_shown_once_and_signs_the_test_delivery(app, client, admin, form_post):
    from mangel.routing.models import DepartmentEndpoint

    with WebhookReceiver() as hook:
        # plain http only to this machine itself: the receiver of this test
        response = form_post(URL, {"department_id": str(admin), "url": hook.url})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        secret = secret_in(html)
        assert secret and "nur jetzt angezeigt" in html
        listing = client.get(URL).get_data(as_text=True)
        assert secret not in listing and hook.url in listing
        response = form_post(f"{URL}/{admin}/test", page=URL, follow_redirects=True)
        page = response.get_data(as_text=True)
        assert "Testzustellung an Netzbetreiber angekommen (Antwort 200" in page
        [(headers, body)] = hook.requests
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Lotse-Signature"], expected)
    assert b'"test": true' in body
    with app.app_context():
        assert db.session.get(DepartmentEndpoint, admin).webhook_secret == secret


def test_failed_test_delivery_says_why_in_words(client, admin, form_post, app):
    from mangel.routing.models import DepartmentEndpoint

    with app.app_context():
        db.session.add(
            DepartmentEndpoint(
                department_id=admin,
                webhook_url=f"http://127.0.0.1:{free_port()}/nichts",
                webhook_secret="geheim",
            )
        )
        db.session.commit()
    response = form_post(f"{URL}/{admin}/test", page=URL, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Testzustellung an Netzbetreiber fehlgeschlagen: Der Empfänger war nicht" in page
    assert "URLError" not in page and "Errno" not in page


def test_edit_with_a_new_secret_and_delete(app, client, admin, form_post):
    from mangel.routing.models import DepartmentEndpoint

    form_post(URL, {"department_id": str(admin), "url": "https://netz.example/a"})
    with app.app_context():
        old = db.session.get(DepartmentEndpoint, admin).webhook_secret
    edit = f"{URL}/{admin}"
    response = form_post(edit, {"url": "http://netz.example/b"})
    assert response.status_code == 422 and "https://" in response.get_data(as_text=True)
    response = form_post(edit, {"url": "https://netz.example/b", "new_secret": "y"})
    new = secret_in(response.get_data(as_text=True))
    assert new and new != old
    with app.app_context():
        endpoint = db.session.get(DepartmentEndpoint, admin)
        assert (endpoint.webhook_url, endpoint.webhook_secret) == ("https://netz.example/b", new)
    form_post(edit, {"url": "https://netz.example/c"})
    with app.app_context():
        assert db.session.get(DepartmentEndpoint, admin).webhook_secret == new  # kept
    response = form_post(f"{URL}/{admin}/loeschen", page=URL, follow_redirects=True)
    assert "Der Webhook von Netzbetreiber ist gelöscht" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(DepartmentEndpoint)).all() == []


def test_failed_deliveries_show_german_states_and_human_errors(app, client, admin, make_report):
    from mangel.routing.models import Delivery

    report_id = make_report()
    retry_at = utcnow() + timedelta(minutes=5)
    with app.app_context():
        db.session.add_all(
            [
                Delivery(
                    report_id=report_id,
                    department_id=admin,
                    method="webhook",
                    recipient="https://netz.example/hook",
                    state="pending",
                    attempts=1,
                    last_error="URLError: <urlopen error [Errno 111] Connection refused>",
                    idempotency_key="a" * 32,
                    next_attempt_at=retry_at,
                    created_at=utcnow() - timedelta(hours=2),
                ),
                Delivery(
                    report_id=report_id,
                    department_id=admin,
                    method="webhook",
                    recipient="https://netz.example/hook",
                    state="failed",
                    attempts=5,
                    last_error="HTTPError: HTTP Error 503: Service Unavailable",
                    idempotency_key="b" * 32,
                ),
                Delivery(
                    report_id=report_id,
                    recipient="x@example.org",
                    state="pending",
                    attempts=0,
                    idempotency_key="c" * 32,
                    created_at=utcnow() - timedelta(hours=2),
                ),
            ]
        )
        db.session.commit()
    with app.test_request_context():
        at = format_time(retry_at, "HH:mm")
    page = client.get("/verwaltung/maengel/zustellungen").get_data(as_text=True)
    assert f"fehlgeschlagen – nächster Versuch {at}" in page
    assert "Der Empfänger war nicht erreichbar (Verbindung abgelehnt)." in page
    assert "fehlgeschlagen – aufgegeben nach 5 Versuchen" in page
    assert "Beim Empfänger ist ein Fehler aufgetreten (HTTP 503)." in page
    assert "<td>ausstehend</td>" in page
    assert "<td>pending</td>" not in page and "<td>failed</td>" not in page
    # the technical text only folded away, for IT
    assert '<details class="technical"><summary>Technische Angabe</summary>' in page


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("TimeoutError: timed out", "nicht rechtzeitig geantwortet"),
        (
            "URLError: <urlopen error [Errno -2] Name or service not known>",
            "Rechnernamen des Empfängers gibt es nicht",
        ),
        ("URLError: <urlopen error [SSL: CERTIFICATE_VERIFY_FAILED] x>", "Zertifikat"),
        ("HTTPError: HTTP Error 404: Not Found", "abgelehnt (HTTP 404)"),
        ("SMTPRecipientsRefused: {'x@y': (550, b'no')}", "Empfängeradresse abgelehnt"),
        ("SMTPDataError: (554, b'spam')", "E-Mail abgelehnt (Code 554)"),
        ("LookupError: department has no webhook any more", "keinen Webhook mehr"),
        ("KeyError: 'x'", "Unbekannter Fehler"),
    ],
)
def test_errors_in_words(app, raw, words):
    from mangel.routing.failures import human_error

    with app.test_request_context():
        assert words in human_error(raw)
