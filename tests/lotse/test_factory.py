"""The app factory and its configuration chain."""

import pytest

from lotse import create_app


def test_test_config_overrides_defaults(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "TOWN_NAME": "Kleinstadt",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/a.db",
        },
        instance_path=str(tmp_path),
    )
    assert app.testing
    assert app.config["TOWN_NAME"] == "Kleinstadt"
    assert app.config["MAP_ZOOM"] == 14  # untouched default survives


def test_without_test_config_app_is_not_testing(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    app = create_app(instance_path=str(tmp_path))
    assert not app.testing
    # Embedded default: SQLite in the instance folder, no Redis.
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/lotse.sqlite3"
    assert app.config["REDIS_URL"] is None


def test_instance_config_then_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('TOWN_NAME = "Aus Instanz"\nMAP_ZOOM = 12\n')
    monkeypatch.setenv("LOTSE_MAP_ZOOM", "16")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example/lotse")
    monkeypatch.setenv("REDIS_URL", "redis://cache.example:6379/0")
    monkeypatch.setenv("LOTSE_PUBLIC_BASE_URL", "https://service.town.example")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["TOWN_NAME"] == "Aus Instanz"
    assert app.config["MAP_ZOOM"] == 16  # environment beats instance/config.py
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/lotse"
    assert app.config["REDIS_URL"] == "redis://cache.example:6379/0"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://cache.example:6379/0"
    # Production keeps Secure cookies.
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_secret_key_generated_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    first = create_app(instance_path=str(tmp_path)).config["SECRET_KEY"]
    second = create_app(instance_path=str(tmp_path)).config["SECRET_KEY"]
    assert len(first) == 64
    assert first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/maengel/",
        "/buchung/",
        "/impressum",
        "/datenschutz",
        "/barrierefreiheit",
        "/leichte-sprache",
        "/anmelden",
    ],
)
def test_public_pages_render(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b'<main id="main"' in response.data


def test_start_page_links_both_services(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/maengel/"' in html
    assert 'href="/buchung/"' in html
    assert "Zum Inhalt springen" in html


def test_legal_pages_show_configured_text(make_app):
    app = make_app(
        LEGAL_PAGES={
            "impressum": "<p>Gemeinde Beispiel, Hauptstr. 1</p>",
            "datenschutz": "x",
            "barrierefreiheit": "y",
        }
    )
    html = app.test_client().get("/impressum").get_data(as_text=True)
    assert "Gemeinde Beispiel, Hauptstr. 1" in html


def test_unknown_page_is_friendly_german_404(client):
    response = client.get("/gibt-es-nicht")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.get_data(as_text=True)


def test_api_clients_get_json_errors(client):
    response = client.get("/gibt-es-nicht", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["error"]["code"] == 404


def test_unexpected_error_is_friendly_500(make_app):
    app = make_app()

    @app.route("/kaputt")
    def broken():
        raise RuntimeError("boom")

    response = app.test_client().get("/kaputt")
    assert response.status_code == 500
    assert "Hier ist etwas schiefgegangen" in response.get_data(as_text=True)
    assert "boom" not in response.get_data(as_text=True)


def test_oversized_request_is_friendly_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1000, WTF_CSRF_ENABLED=False)
    response = app.test_client().post("/anmelden", data={"email": "x" * 5000})
    assert response.status_code == 413
    assert "zu groß" in response.get_data(as_text=True)
