"""Staff login, logout, throttling and role checks."""

import pytest

pytestmark = pytest.mark.both_dbs


def test_login_and_logout(client, auth, make_user):
    make_user(name="Chris Clerk")
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/verwaltung/")
    page = client.get("/verwaltung/").get_data(as_text=True)
    assert "Angemeldet als Chris Clerk" in page

    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/verwaltung/").status_code == 302


def test_login_is_case_insensitive_on_email(client, auth, make_user):
    make_user(email="clerk@town.example")
    assert auth.login(email="  Clerk@Town.Example ").status_code == 302


@pytest.mark.parametrize(
    "email, password",
    [("clerk@town.example", "wrong password!"), ("nobody@town.example", "correct horse battery")],
)
def test_wrong_email_or_password_gets_the_same_message(client, auth, make_user, email, password):
    make_user()
    response = auth.login(email=email, password=password)
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "E-Mail-Adresse oder Passwort ist falsch." in html
    assert f'value="{email}"' in html  # the typed address is kept
    assert client.get("/verwaltung/").status_code == 302


def test_inactive_account_cannot_log_in(client, auth, make_user):
    make_user(active=False)
    assert auth.login().status_code == 401


def test_empty_login_form_shows_field_messages(auth):
    response = auth.login(email="", password="")
    html = response.get_data(as_text=True)
    assert "Bitte geben Sie Ihre E-Mail-Adresse ein." in html
    assert "Bitte geben Sie Ihr Passwort ein." in html
    assert 'aria-invalid="true"' in html


def test_login_throttled_per_account(client, auth, make_user):
    make_user()
    for _ in range(5):
        assert auth.login(password="wrong password!").status_code == 401
    response = auth.login()  # even the right password is refused for now
    assert response.status_code == 429
    assert "Zu viele Anfragen" in response.get_data(as_text=True)
    assert client.get("/verwaltung/").status_code == 302


def test_successful_logins_do_not_count_against_the_account(client, auth, make_user):
    make_user()
    for _ in range(7):
        assert auth.login().status_code == 302
        auth.logout()


def test_login_throttled_per_ip(make_app, make_user):
    from tests.conftest import csrf_token_from

    app = make_app(LOGIN_LIMIT_PER_IP="3 per 15 minutes")
    make_user()
    client = app.test_client()
    codes = []
    for i in range(4):
        token = csrf_token_from(client.get("/anmelden").get_data(as_text=True))
        codes.append(
            client.post(
                "/anmelden",
                data={"email": f"user{i}@town.example", "password": "x", "csrf_token": token},
            ).status_code
        )
    assert codes == [401, 401, 401, 429]


def test_session_is_renewed_on_login(client, auth, make_user):
    make_user()
    with client.session_transaction() as sess:
        sess["planted"] = "by attacker"
    auth.login()
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert "_user_id" in sess


def test_open_redirect_after_login_is_ignored(client, form_post, make_user):
    make_user()
    response = form_post(
        "/anmelden?next=https://evil.example/",
        {"email": "clerk@town.example", "password": "correct horse battery"},
    )
    assert response.headers["Location"].endswith("/verwaltung/")


def test_staff_pages_need_login(client):
    response = client.get("/verwaltung/admin/personal")
    assert response.status_code == 302
    assert "/anmelden" in response.headers["Location"]


def test_clerk_cannot_open_admin_pages(client, auth, make_user):
    make_user(roles=("clerk",))
    auth.login()
    for path in (
        "/verwaltung/admin/personal",
        "/verwaltung/admin/personal/neu",
        "/verwaltung/admin/fachbereiche",
    ):
        response = client.get(path)
        assert response.status_code == 403
        assert "Kein Zugriff" in response.get_data(as_text=True)


def test_admin_creates_clerk_who_can_log_in(client, auth, form_post, make_user, make_department):
    dep = make_department("Grünflächen")
    make_user(email="admin@town.example", roles=("admin",))
    auth.login(email="admin@town.example")
    response = form_post(
        "/verwaltung/admin/personal/neu",
        {
            "display_name": "Gabi Grün",
            "email": "gabi@town.example",
            "password": "a long enough password",
            "roles": ["clerk"],
            "departments": [str(dep.id)],
            "active": "y",
        },
    )
    assert response.status_code == 302
    listing = client.get("/verwaltung/admin/personal").get_data(as_text=True)
    assert "Gabi Grün" in listing and "Grünflächen" in listing
    auth.logout()
    assert (
        auth.login(email="gabi@town.example", password="a long enough password").status_code == 302
    )
    assert client.get("/verwaltung/admin/personal").status_code == 403


def test_admin_form_errors_keep_input_and_store_nothing(app, client, auth, form_post, make_user):
    make_user(email="admin@town.example", roles=("admin",))
    auth.login(email="admin@town.example")
    response = form_post(
        "/verwaltung/admin/personal/neu",
        {
            "display_name": "Neu",
            "email": "admin@town.example",
            "password": "short",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Diese E-Mail-Adresse ist schon vergeben." in html
    assert "mindestens 12 Zeichen" in html
    assert 'value="Neu"' in html
    from sqlalchemy import func, select

    from lotse.extensions import db
    from lotse.models import User

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize(
    "path, password, message",
    [
        ("/verwaltung/admin/personal/neu", "", "Bitte vergeben Sie ein Passwort."),
        ("/verwaltung/admin/personal/neu", "short", "mindestens 12 Zeichen"),
        ("/verwaltung/admin/personal/1", "short", "mindestens 12 Zeichen"),
    ],
)
def test_password_rules_of_the_staff_form(auth, form_post, make_user, path, password, message):
    make_user(email="admin@town.example", roles=("admin",))
    auth.login(email="admin@town.example")
    data = {"display_name": "Neu", "email": "neu@town.example", "password": password}
    response = form_post(path, {**data, "roles": ["admin"]})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_empty_password_keeps_the_old_one(auth, form_post, make_user):
    make_user(email="admin@town.example", roles=("admin",))
    auth.login(email="admin@town.example")
    data = {"display_name": "Ada", "email": "admin@town.example", "roles": ["admin"]}
    response = form_post("/verwaltung/admin/personal/1", {**data, "password": "", "active": "y"})
    assert response.status_code == 302
    auth.logout()
    assert auth.login(email="admin@town.example").status_code == 302


def test_create_staff_cli(app, runner):
    result = runner.invoke(
        args=[
            "lotse",
            "create-staff",
            "--email",
            "neu@town.example",
            "--name",
            "Neu",
            "--role",
            "booking_office",
        ],
        input="ein sehr langes passwort\nein sehr langes passwort\n",
    )
    assert result.exit_code == 0, result.output
    from sqlalchemy import select

    from lotse.extensions import db
    from lotse.models import User

    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "neu@town.example"
        assert user.roles == {"booking_office"}
        assert user.check_password("ein sehr langes passwort")
        assert user.password_hash.startswith("scrypt:")
