"""API keys (CLI and admin page) and the media_url job with its address checks."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from lotse.extensions import db
from tests.apikeys import store_key_as_before
from tests.conftest import csrf_token_from
from tests.mangel.conftest import photo

pytestmark = pytest.mark.both_dbs


def test_cli_prints_the_key_once_and_stores_only_its_hash(app, runner, make_key, post_request):
    from mangel.open311.apikey_models import ApiKey

    result = runner.invoke(args=["lotse", "create-api-key", "Stadt-App", "--trusted"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip()
    assert raw.startswith("lotse_")
    with app.app_context():
        key = db.session.scalars(select(ApiKey)).one()
        assert key.name == "Stadt-App" and key.trusted
        assert raw not in (key.key_hash, key.key_prefix) and len(key.key_hash) == 64
    assert post_request("json", api_key=raw, email="").status_code == 200


def test_cli_refuses_a_bad_rate_limit(runner):
    result = runner.invoke(args=["lotse", "create-api-key", "X", "--rate-limit", "oft"])
    assert result.exit_code != 0


def test_admin_creates_lists_and_revokes_keys(
    app, client, auth, make_user, form_post, categories, post_request
):
    from mangel.open311.apikey_models import ApiKey

    url = "/verwaltung/maengel/api-schluessel/"
    make_user()
    auth.login()
    assert client.get(url).status_code == 403
    auth.logout()
    make_user(email="admin@town.example", roles=("admin",))
    auth.login(email="admin@town.example")
    assert f'href="{url}"' in client.get("/verwaltung/").get_data(as_text=True)
    page = form_post(
        url,
        {
            "name": "Partnerportal",
            "rate_count": "10",
            "rate_period": "minute",
            "categories": categories["light"],
        },
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    with app.app_context():
        key = db.session.scalars(select(ApiKey)).one()
        assert key.category_ids == [categories["light"]] and not key.trusted
        assert key.rate_limit == "10 per minute"
        key_id, prefix = key.id, key.key_prefix
    assert prefix in html and "nur jetzt angezeigt" in html
    listing = client.get(url).get_data(as_text=True)
    assert "Partnerportal" in listing
    assert "höchstens 10 pro Minute, 1 Kategorie<" in listing  # German, singular
    assert "per minute" not in listing and "1 Kategorien" not in listing
    raw = html.split("<code>lotse_", 1)[1].split("</code>", 1)[0]
    raw = "lotse_" + raw
    assert raw not in listing
    light = {"service_code": str(categories["light"]), "attribute[art]": "1"}
    assert post_request("json", api_key=raw, **light).status_code == 200
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    revoked = client.post(
        f"{url}{key_id}/widerrufen", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Der Schlüssel „Partnerportal“ ist widerrufen." in revoked
    assert "Schlüssel „Partnerportal“ widerrufen<" not in revoked
    refused = post_request("json", api_key=raw, **light)
    assert refused.status_code == 403 and "revoked" in refused.get_data(as_text=True)


def test_a_key_issued_before_keys_were_shared_with_the_booking_api_still_works(app, post_request):
    """Keys already handed out were stored as the SHA-256 (hex) of the key: they stay valid."""
    from mangel.open311.apikey_models import ApiKey

    raw = "lotse_" + "k" * 43
    store_key_as_before(app, ApiKey, raw, trusted=True)
    assert post_request("json", api_key=raw, email="").status_code == 200
    assert post_request("json", api_key=raw[:-1], email="").status_code == 403


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fd00::1"]
)
def test_media_url_to_private_addresses_is_refused(monkeypatch, address):
    from mangel.open311 import media as open311_media

    def resolve(host, port, **kw):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(open311_media.socket, "getaddrinfo", resolve)
    with pytest.raises(open311_media.MediaRefused, match="non-public"):
        open311_media.download("http://bilder.example/x.jpg", 1000)


def test_media_url_with_one_private_address_among_public_ones_is_refused(monkeypatch):
    from mangel.open311 import media as open311_media

    def resolve(host, port, **kw):
        return [
            (socket.AF_INET, 1, 6, "", ("93.184.216.34", port)),
            (2, 1, 6, "", ("10.0.0.1", port)),
        ]

    monkeypatch.setattr(open311_media.socket, "getaddrinfo", resolve)
    with pytest.raises(open311_media.MediaRefused):
        open311_media.public_address("bilder.example", 80)


@pytest.fixture
def image_server():
    """A local HTTP server: a photo at /foto.jpg, 2 MB at /gross, a trickle at /langsam."""
    body = photo()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            data = body if self.path == "/foto.jpg" else b"x" * 2_000_000
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.path == "/langsam":
                for _ in range(20):
                    self.wfile.write(b"x" * 100)
                    self.wfile.flush()
                    time.sleep(0.1)
                return
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://bilder.example:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def loopback_allowed(monkeypatch):
    """Let the download reach the local test server: the only address check bypassed."""
    from mangel.open311 import media as open311_media

    monkeypatch.setattr(open311_media, "public_address", lambda host, port: "127.0.0.1")


def test_media_url_is_fetched_by_the_job_into_the_photo_pipeline(
    app, make_key, post_request, image_server, loopback_allowed
):
    from mangel.models import ReportPhoto

    response = post_request("json", api_key=make_key(), media_url=f"{image_server}/foto.jpg")
    assert response.status_code == 200, response.data
    report_id = int(response.get_json()[0]["service_request_id"])
    with app.app_context():
        (stored,) = db.session.scalars(select(ReportPhoto)).all()
        assert stored.report_id == report_id and stored.width == 640


def test_media_url_over_the_size_limit_is_dropped(app, image_server, loopback_allowed):
    from mangel.open311 import media as open311_media

    with pytest.raises(open311_media.MediaRefused, match="larger"):
        open311_media.download(f"{image_server}/gross", 1_000_000)


def test_media_url_that_trickles_past_the_deadline_is_dropped(image_server, loopback_allowed):
    from mangel.open311 import media as open311_media

    with pytest.raises(open311_media.MediaRefused, match="too long"):
        open311_media.download(f"{image_server}/langsam", 1_000_000, seconds=0.5)


def test_report_with_a_refused_media_url_is_kept_without_photo(app, make_key, post_request):
    from mangel.models import Report, ReportPhoto

    response = post_request("json", api_key=make_key(), media_url="http://127.0.0.1/x.jpg")
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalars(select(Report)).one().source == "open311"
        assert db.session.scalars(select(ReportPhoto)).all() == []


def test_key_admin_refuses_a_post_without_csrf_token(app, client, auth, make_user):
    from mangel.open311.apikey_models import ApiKey

    make_user(email="admin@town.example", roles=("admin",))
    auth.login(email="admin@town.example")
    response = client.post("/verwaltung/maengel/api-schluessel/", data={"name": "Bot"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(ApiKey)).all() == []


@pytest.mark.parametrize(
    ("count", "message"),
    [("", "Bitte geben Sie eine Zahl an"), ("0", "von 1 bis 100.000"), ("zehn", "Zahl")],
)
def test_rate_limit_is_entered_as_a_number_per_period(
    client, auth, make_user, form_post, count, message
):
    make_user(email="admin@town.example", roles=("admin",))
    auth.login(email="admin@town.example")
    url = "/verwaltung/maengel/api-schluessel/"
    form = client.get(url).get_data(as_text=True)
    assert "Höchstens so viele Meldungen" in form and ">pro Stunde</option>" in form
    page = form_post(url, {"name": "App", "rate_count": count, "rate_period": "hour"})
    assert message in page.get_data(as_text=True)


def test_limit_labels_read_as_german(app):
    from mangel.open311.apikeys import limit_label

    with app.test_request_context():
        assert limit_label("100 per hour") == "100 pro Stunde"
        assert limit_label("1000 per day") == "1.000 pro Tag"
        assert limit_label("5 per 10 minutes") == "5 je 10 Minuten"
