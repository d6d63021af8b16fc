"""CSRF, security headers, cookies."""

from tests.conftest import csrf_token_from


def test_post_without_csrf_token_is_refused(client, make_user):
    make_user()
    response = client.post(
        "/anmelden", data={"email": "clerk@town.example", "password": "correct horse battery"}
    )
    assert response.status_code == 400
    assert "Formular ist abgelaufen" in response.get_data(as_text=True)
    # And the user is not logged in.
    assert client.get("/verwaltung/").status_code == 302


def test_post_with_wrong_csrf_token_is_refused(client, make_user):
    make_user()
    client.get("/anmelden")
    response = client.post(
        "/anmelden",
        data={
            "email": "clerk@town.example",
            "password": "correct horse battery",
            "csrf_token": "forged",
        },
    )
    assert response.status_code == 400


def test_security_headers_on_every_page(client):
    for path in ("/", "/anmelden", "/gibt-es-nicht"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "https://tile.openstreetmap.org" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["X-Frame-Options"] == "DENY"


def test_csp_follows_configured_tile_server(make_app):
    app = make_app(TILE_URL="https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    csp = app.test_client().get("/").headers["Content-Security-Policy"]
    assert "https://*.tiles.example.org" in csp
    assert "openstreetmap" not in csp


def test_session_cookie_flags_in_production(make_app, make_user, form_post):
    app = make_app(SESSION_COOKIE_SECURE=True)
    make_user()
    client = app.test_client()
    page = client.get("/anmelden")
    response = client.post(
        "/anmelden",
        data={
            "email": "clerk@town.example",
            "password": "correct horse battery",
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
        base_url="https://localhost",
    )
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and "session=" in v)
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_limits_do_not_fail_while_their_storage_is_down(make_app, make_user, form_post):
    """Redis (the rate-limit storage) unreachable: the login still answers, limits count in memory."""
    from tests.sinks import free_port

    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")
    make_user()
    client = app.test_client()
    page = client.get("/anmelden").get_data(as_text=True)
    data = {
        "email": "clerk@town.example",
        "password": "falsch",
        "csrf_token": csrf_token_from(page),
    }
    assert client.post("/anmelden", data=data).status_code == 401
    data["password"] = "correct horse battery"
    assert client.post("/anmelden", data=data).status_code == 302
