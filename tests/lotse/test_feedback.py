"""The feedback form of the Erklärung zur Barrierefreiheit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import csrf_token_from
from tests.mailbox import Mailbox

URL = "/barrierefreiheit"
FEEDBACK = {
    "message": "Die Karte lässt sich mit der Tastatur nicht verschieben.",
    "page_url": "/maengel/neu",
    "name": "Kim Muster",
    "email": "kim@example.org",
}


def test_feedback_is_mailed_to_the_accessibility_contact(client, form_post, mailbox):
    response = form_post(URL, FEEDBACK)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(URL)
    page = client.get(URL).get_data(as_text=True)
    assert "Vielen Dank! Ihre Rückmeldung ist angekommen." in page

    [mail] = mailbox.messages()
    assert mail["To"] == "barrierefreiheit@musterstadt.example"
    assert mail["Reply-To"] == "kim@example.org"
    assert mail["Subject"] == "Rückmeldung zur Barrierefreiheit"
    text = Mailbox.text(mail)
    for value in FEEDBACK.values():
        assert value in text


def test_anonymous_feedback_and_configured_recipient(make_app):
    app = make_app(ACCESSIBILITY_FEEDBACK_TO="a11y@town.example")
    mailbox = Mailbox(Path(app.instance_path) / "mail")
    client = app.test_client()
    token = csrf_token_from(client.get(URL).get_data(as_text=True))
    response = client.post(URL, data={"csrf_token": token, "message": "Kontrast zu schwach"})
    assert response.status_code == 302
    [mail] = mailbox.messages()
    assert mail["To"] == "a11y@town.example"
    assert mail["Reply-To"] is None
    assert "keine Antwort möglich" in Mailbox.text(mail)


@pytest.mark.parametrize(
    "data, message",
    [
        ({**FEEDBACK, "message": "  "}, "Bitte beschreiben Sie die Barriere."),
        (
            {**FEEDBACK, "email": "kim at example"},
            "Bitte geben Sie eine gültige E-Mail-Adresse ein.",
        ),
        ({**FEEDBACK, "message": "x" * 5001}, "Bitte schreiben Sie höchstens 5000 Zeichen."),
    ],
)
def test_invalid_feedback_keeps_the_input_and_sends_nothing(form_post, mailbox, data, message):
    response = form_post(URL, data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html
    assert 'value="Kim Muster"' in html
    assert 'value="/maengel/neu"' in html
    assert mailbox.messages() == []


def test_honeypot_thanks_the_bot_and_sends_nothing(client, form_post, mailbox):
    response = form_post(URL, {**FEEDBACK, "website": "http://spam.example"})
    assert response.status_code == 302
    assert "Vielen Dank!" in client.get(URL).get_data(as_text=True)
    assert mailbox.messages() == []


def test_feedback_needs_the_csrf_token(client, mailbox):
    response = client.post(URL, data=FEEDBACK)
    assert response.status_code == 400
    assert mailbox.messages() == []


def test_feedback_is_rate_limited(make_app):
    app = make_app(ACCESSIBILITY_FEEDBACK_LIMIT="2 per minute")
    client = app.test_client()
    token = csrf_token_from(client.get(URL).get_data(as_text=True))
    codes = [client.post(URL, data={**FEEDBACK, "csrf_token": token}).status_code for _ in range(3)]
    assert codes == [302, 302, 429]


def test_the_page_field_is_filled_with_the_page_the_visitor_came_from(client):
    html = client.get(URL, headers={"Referer": "http://localhost/leichte-sprache?x=1"}).get_data(
        as_text=True
    )
    assert 'value="/leichte-sprache"' in html
    html = client.get(URL, headers={"Referer": "https://elsewhere.example/page"}).get_data(
        as_text=True
    )
    assert "elsewhere" not in html


def test_an_app_without_limits_leaves_every_other_app_limited(make_app):
    """Apps share one Flask-Limiter instance; one app's switch or storage is not the others'.

    An app created with ``RATELIMIT_ENABLED = False`` (as the robustness walk and the
    benchmarks do) once switched limits off for every app created after it in the process.
    """
    limited = make_app(ACCESSIBILITY_FEEDBACK_LIMIT="2 per minute")
    make_app(RATELIMIT_ENABLED=False, ACCESSIBILITY_FEEDBACK_LIMIT="2 per minute")
    created_after = make_app(ACCESSIBILITY_FEEDBACK_LIMIT="2 per minute")
    for app in (limited, created_after):
        client = app.test_client()
        token = csrf_token_from(client.get(URL).get_data(as_text=True))
        codes = [
            client.post(URL, data={**FEEDBACK, "csrf_token": token}).status_code for _ in range(3)
        ]
        assert codes == [302, 302, 429], app
