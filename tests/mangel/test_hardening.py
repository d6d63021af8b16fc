"""Issue 20 for the Mängelmelder: hidden reports stay hidden on every public surface, held
and unreleased photos reach only who may see them, the photo-location step reads the GPS
tag without decoding pixels and is rate-limited per IP, CSV exports carry no formulas."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from lotse.extensions import db
from tests.mangel.conftest import INSIDE, photo, upload

pytestmark = pytest.mark.both_dbs


def _add_photos(app, report_id: int, *, held: tuple[bool, ...], write: bool = False) -> list[str]:
    """Photo rows (and files, with ``write``) for a report; returns their file names."""
    from mangel.models import ReportPhoto

    names = []
    with app.app_context():
        for position, is_held in enumerate(held):
            token = secrets.token_hex(16)
            name, thumb = f"{token}.jpg", f"{token}_t.jpg"
            db.session.add(
                ReportPhoto(
                    report_id=report_id,
                    file_name=name,
                    thumb_name=thumb,
                    width=640,
                    height=480,
                    position=position,
                    held=is_held,
                )
            )
            names.append(name)
            if write:
                folder = Path(app.instance_path) / "uploads"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(photo())
        db.session.commit()
    return names


def test_hidden_reports_are_not_in_the_open311_list_or_found_by_id(client, make_report):
    shown = make_report(description="Sichtbar")
    hidden = make_report(description="Verborgen", hidden=True)
    listed = client.get("/open311/v2/requests.json").get_json()
    assert [r["service_request_id"] for r in listed] == [str(shown)]
    by_ids = client.get(f"/open311/v2/requests.json?service_request_id={shown},{hidden}")
    assert [r["service_request_id"] for r in by_ids.get_json()] == [str(shown)]
    assert client.get(f"/open311/v2/requests/{hidden}.json").status_code == 404


def test_held_photos_are_not_in_open311_media_url(app, client, make_report):
    report_id = make_report(photos_released=True)
    held, shown = _add_photos(app, report_id, held=(True, False))
    data = client.get("/open311/v2/requests.json?extensions=true").get_json()[0]
    assert data["media_url"].endswith(shown)
    assert all(held not in url for url in data["extended_attributes"]["photos"])


def test_duplicate_step_does_not_offer_hidden_reports(client, categories, make_report):
    hidden = make_report(hidden=True, lat=INSIDE[0] + 0.0001, lon=INSIDE[1])
    url = f"/maengel/neu/angaben?category={categories['pothole']}&lat={INSIDE[0]}&lon={INSIDE[1]}"
    html = client.get(url).get_data(as_text=True)
    assert f"/maengel/{hidden}#" not in html
    assert "Schon gemeldet?" not in html


def test_unreleased_photo_only_for_clerks_of_the_reports_department(
    app, client, auth, make_user, make_department, make_report
):
    tiefbau = make_department("Tiefbau-Amt")
    gruen = make_department("Grünflächen")
    report_id = make_report(department_id=tiefbau.id, photos_released=False)
    (name,) = _add_photos(app, report_id, held=(False,), write=True)
    make_user("gruen@town.example", departments=(gruen.id,))
    make_user("tief@town.example", departments=(tiefbau.id,))
    auth.login("gruen@town.example")
    assert client.get(f"/maengel/fotos/{name}").status_code == 404
    auth.logout()
    auth.login("tief@town.example")
    response = client.get(f"/maengel/fotos/{name}")
    response.close()
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]


def test_photo_location_is_rate_limited_per_ip(categories, form_post, client):
    app = client.application
    app.config["MANGEL_PHOTO_LOCATION_LIMIT_PER_IP"] = "2 per hour"
    page = f"/maengel/neu/ort?category={categories['pothole']}"
    statuses = []
    for _ in range(3):
        response = form_post(
            "/maengel/neu/ort/foto",
            {"category": str(categories["pothole"]), "photo": upload(photo(gps=INSIDE))},
            page=page,
            content_type="multipart/form-data",
        )
        statuses.append(response.status_code)
    assert statuses == [302, 302, 429]


def test_report_export_neutralises_formulas(client, auth, make_user, make_report):
    make_report(description="=1+2", street="@SUM(A1)")
    make_user("admin@town.example", roles=("admin",))
    auth.login("admin@town.example")
    text = client.get("/verwaltung/maengel/meldungen/export.csv").get_data(as_text=True)
    assert ";'=1+2" in text and ";'@SUM(A1);" in text
    assert ";=1+2" not in text and ";@SUM" not in text


@pytest.mark.parametrize(
    "address",
    [
        "::10.0.0.1",  # IPv4-compatible
        "::ffff:127.0.0.1",  # IPv4-mapped
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "224.0.0.1",  # multicast
        "ff0e::1",  # global-scope multicast
    ],
)
def test_media_url_filter_normalises_ipv6_forms_of_private_addresses(monkeypatch, address):
    import socket

    from mangel.open311 import media as open311_media

    def resolve(host, port, **kw):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(open311_media.socket, "getaddrinfo", resolve)
    with pytest.raises(open311_media.MediaRefused, match="non-public"):
        open311_media.public_address("bilder.example", 80)


def test_open311_key_in_the_query_string_of_a_post_is_refused(client, categories):
    from mangel.open311.apikeys import create_api_key

    with client.application.app_context():
        _key, raw = create_api_key("Stadt-App")
        db.session.commit()
    data = {
        "service_code": str(categories["pothole"]),
        "lat": str(INSIDE[0]),
        "long": str(INSIDE[1]),
        "description": "Schlagloch",
        "email": "erika@example.org",
    }
    in_url = client.post(f"/open311/v2/requests.json?api_key={raw}", data=data)
    assert in_url.status_code == 400
    assert "api_key" in in_url.get_json()[0]["description"]
    in_header = client.post("/open311/v2/requests.json", data=data, headers={"X-Api-Key": raw})
    assert in_header.status_code == 200, in_header.get_data(as_text=True)
