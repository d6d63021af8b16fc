"""Issue 20 for the core: revocable sessions, logins that neither leak accounts by timing nor
let anybody lock an admin out, common passwords refused, staff pages never cached, hostile
input answered with 4xx instead of 500."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import csrf_token_from

pytestmark = pytest.mark.both_dbs
ADMIN = "admin@town.example"


def _replay(app, cookie: str, url: str = "/verwaltung/"):
    """What a stolen session cookie still opens."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get(url)


def test_session_cookie_is_useless_after_logout(app, client, auth, make_user):
    make_user()
    auth.login()
    stolen = client.get_cookie("session").value
    assert _replay(app, stolen).status_code == 200
    auth.logout()
    assert _replay(app, stolen).status_code == 302


def test_password_change_and_deactivation_end_other_sessions(
    app, client, auth, form_post, make_user
):
    make_user(email=ADMIN, roles=("admin",))
    clerk_id = make_user()
    clerk = app.test_client()
    page = clerk.get("/anmelden").get_data(as_text=True)
    clerk.post(
        "/anmelden",
        data={
            "email": "clerk@town.example",
            "password": "correct horse battery",
            "csrf_token": csrf_token_from(page),
        },
    )
    assert clerk.get("/verwaltung/").status_code == 200
    auth.login(email=ADMIN)
    data = {"display_name": "Chris Clerk", "email": "clerk@town.example", "roles": ["clerk"]}
    changed = form_post(
        f"/verwaltung/admin/personal/{clerk_id}",
        {**data, "password": "ein ganz neues passwort", "active": "y"},
    )
    assert changed.status_code == 302
    assert clerk.get("/verwaltung/").status_code == 302

    page = clerk.get("/anmelden").get_data(as_text=True)
    clerk.post(
        "/anmelden",
        data={
            "email": "clerk@town.example",
            "password": "ein ganz neues passwort",
            "csrf_token": csrf_token_from(page),
        },
    )
    assert clerk.get("/verwaltung/").status_code == 200
    form_post(f"/verwaltung/admin/personal/{clerk_id}", {**data, "password": ""})
    assert clerk.get("/verwaltung/").status_code == 302


def test_staff_login_hashes_a_password_even_for_unknown_accounts(auth, make_user, monkeypatch):
    make_user()
    calls = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    auth.login(password="wrong password!")
    known = len(calls)
    auth.login(email="nobody@town.example", password="wrong password!")
    assert known >= 1
    assert len(calls) - known == known


def test_wrong_passwords_from_elsewhere_do_not_lock_the_admin_out(app, make_user):
    make_user(email=ADMIN, roles=("admin",))

    def attempt(address: str, password: str) -> int:
        client = app.test_client()
        environ = {"REMOTE_ADDR": address}
        page = client.get("/anmelden", environ_base=environ).get_data(as_text=True)
        data = {"email": ADMIN, "password": password, "csrf_token": csrf_token_from(page)}
        return client.post("/anmelden", data=data, environ_base=environ).status_code

    codes = [attempt("203.0.113.9", "wrong password!") for _ in range(6)]
    assert codes == [401] * 5 + [429]
    assert attempt("198.51.100.7", "correct horse battery") == 302


@pytest.mark.parametrize("password", ["passwort1234", "Password1234", "qwertzuiop123"])
def test_common_passwords_are_refused_for_staff(auth, form_post, make_user, password):
    make_user(email=ADMIN, roles=("admin",))
    auth.login(email=ADMIN)
    data = {"display_name": "Neu", "email": "neu@town.example", "roles": ["clerk"]}
    response = form_post("/verwaltung/admin/personal/neu", {**data, "password": password})
    assert response.status_code == 200
    assert "zu häufig" in response.get_data(as_text=True)


def test_common_password_is_refused_for_clubs(form_post):
    data = {
        "club_name": "SV Blau-Weiß",
        "contact_persons": "Olaf Obmann",
        "name": "Olaf Obmann",
        "email": "olaf@sv.example",
        "password": "1234567890",
    }
    response = form_post("/buchung/verein/registrieren", data)
    assert "zu häufig" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/verwaltung/",
        "/verwaltung/maengel/meldungen/",
        "/verwaltung/maengel/api-schluessel/",
        "/verwaltung/admin/personal",
    ],
)
def test_staff_pages_are_not_cached(client, auth, make_user, url):
    make_user(email=ADMIN, roles=("admin",))
    auth.login(email=ADMIN)
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    "url, status",
    [
        ("/maengel/2147483648", 404),
        ("/maengel/99999999999999999999999", 404),
        ("/maengel/?page=9223372036854775808", 400),
        ("/maengel/?category=9223372036854775808", 400),
        ("/open311/v2/requests/9223372036854775807.json", 404),
        ("/open311/v2/requests.json?service_request_id=9223372036854775807", 400),
        ("/open311/v2/services/99999999999999999.json", 404),
        ("/buchung/?capacity=99999999999999999999", 400),
        ("/maengel/?q=a%00b", 400),
    ],
)
def test_huge_numbers_and_nul_bytes_are_client_errors(client, url, status):
    assert client.get(url).status_code == status


def test_nul_byte_in_a_form_gets_a_field_message(form_post, make_user):
    make_user()
    response = form_post("/anmelden", {"email": "clerk@town.example\x00", "password": "x"})
    assert response.status_code == 200
    assert "Bitte entfernen Sie die Steuerzeichen" in response.get_data(as_text=True)


def test_nul_byte_in_an_api_gets_a_machine_readable_400(client):
    response = client.get("/open311/v2/requests.json?status=open%00")
    assert response.status_code == 400
    assert response.get_json()[0]["code"] == 400
