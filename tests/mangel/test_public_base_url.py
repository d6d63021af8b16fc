"""Feeds, Open311 discovery and photo URLs name the town's address, never a forged Host."""

from __future__ import annotations

import pytest

from lotse.extensions import db

FORGED = {"Host": "evil.example"}
BASE = "https://service.musterstadt.example"


@pytest.fixture
def app(make_app):
    return make_app(PUBLIC_BASE_URL=BASE)


@pytest.fixture
def report_with_photo(app, make_report) -> int:
    from mangel.models import Report, ReportPhoto

    report_id = make_report()
    with app.app_context():
        report = db.session.get(Report, report_id)
        report.photos.append(
            ReportPhoto(
                file_name="b" * 32 + ".jpg", thumb_name="b" * 32 + "_t.jpg", width=1, height=1
            )
        )
        report.photos_released = True
        db.session.commit()
    return report_id


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/open311/v2/discovery.json", f"{BASE}/open311/v2/"),
        ("/open311/v2/discovery.xml", f"{BASE}/open311/v2"),
        ("/open311/v2/requests.json", f"{BASE}/maengel/fotos/{'b' * 32}.jpg"),
        ("/maengel/feed.atom", f"{BASE}/maengel/"),
        ("/maengel/feed.atom?category=1", f"{BASE}/maengel/feed.atom?category=1"),
    ],
)
def test_a_forged_host_header_is_not_reflected(client, report_with_photo, path, expected):
    body = client.get(path, headers=FORGED).get_data(as_text=True)
    assert "evil.example" not in body
    assert expected in body


def test_the_bare_open311_address_leads_to_the_developer_page(client):
    response = client.get("/open311/")
    assert response.status_code == 301
    assert response.headers["Location"] == "/open311/v2/"
    page = client.get("/open311/", follow_redirects=True)
    assert page.status_code == 200
    assert "Open311" in page.get_data(as_text=True)
