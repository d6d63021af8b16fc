"""Club logins: several per club (invited by e-mail), password reset by a time-limited,
single-use link; the reset page does not reveal which addresses have a login."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.buchung.conftest import CLUB_PASSWORD
from tests.mailbox import Mailbox

pytestmark = pytest.mark.both_dbs


def _link(msg, part: str) -> str:
    (link,) = [urlsplit(u).path for u in Mailbox.links(msg) if part in u]
    return link


def test_password_reset_link_works_once(client, form_post, make_club, club_login, mailbox):
    make_club()
    response = form_post("/buchung/verein/passwort-vergessen", {"email": "Trainer@TV.example"})
    assert response.status_code == 302
    unknown = form_post("/buchung/verein/passwort-vergessen", {"email": "niemand@x.example"})
    assert unknown.status_code == 302  # the same answer: no hint who has a login
    (mail,) = mailbox.messages()
    assert mail["Subject"] == "Neues Passwort für die Hallenbuchung"
    assert "gilt zwei Stunden und nur einmal" in Mailbox.text(mail)
    link = _link(mail, "/passwort/")
    short = form_post(link, {"password": "kurz"})
    assert "mindestens 10 Zeichen" in short.get_data(as_text=True)
    assert form_post(link, {"password": "ganz-neues-passwort"}).status_code == 302
    assert client.get(link).status_code == 404  # used
    assert club_login(password=CLUB_PASSWORD).status_code == 401
    assert club_login(password="ganz-neues-passwort").status_code == 302


def test_reset_link_expires(app, make_club):
    from buchung.club_models import ClubMember
    from buchung.services.clubs import member_from_password_token, password_token
    from lotse.extensions import db

    ids = make_club()
    with app.app_context():
        token = password_token(db.session.get(ClubMember, ids["member"]))
        assert member_from_password_token(token) is not None
        assert member_from_password_token(token, max_age=-1) is None


def test_a_club_invites_a_second_login_who_then_gets_the_club_mails(
    client, form_post, make_club, club_login, mailbox
):
    make_club()
    club_login()
    response = form_post(
        "/buchung/verein/logins", {"name": "Kai Kasse", "email": "kasse@tv.example"}
    )
    assert response.status_code == 302
    taken = form_post("/buchung/verein/logins", {"name": "X", "email": "trainer@tv.example"})
    assert "schon einen Login" in taken.get_data(as_text=True)
    mail = mailbox.latest(to="kasse@tv.example")
    assert mail["Subject"] == "Einladung zur Hallenbuchung von TV Musterstadt"
    assert "Tina Trainer lädt Sie ein" in Mailbox.text(mail)
    form_post("/abmelden", page="/buchung/verein/")
    assert club_login("kasse@tv.example", "kassen-passwort-1").status_code == 401
    assert (
        form_post(_link(mail, "/passwort/"), {"password": "kassen-passwort-1"}).status_code == 302
    )
    assert club_login("kasse@tv.example", "kassen-passwort-1").status_code == 302
    page = client.get("/buchung/verein/logins").get_data(as_text=True)
    assert "trainer@tv.example" in page and "kasse@tv.example" in page
