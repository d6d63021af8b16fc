"""The public side: list, map data, report page, feed, photos, support — never personal data."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lotse.extensions import db
from tests.mangel.conftest import (
    INSIDE,
    REPORTER,
    count_rows,
    link_in,
    photo,
    sent_mails,
    upload,
)

pytestmark = pytest.mark.both_dbs

TOWN_BBOX = "6.43,50.68,6.56,50.80"


def test_list_filters_and_pages(make_app, categories, make_report):
    app = make_app(MANGEL_PAGE_SIZE=2)
    client = app.test_client()
    ids = [make_report() for _ in range(3)]
    light = make_report(category_id=categories["light"], status="fixed")
    html = client.get("/maengel/").get_data(as_text=True)
    assert "Seite 1" in html and 'rel="next"' in html and 'rel="prev"' not in html
    html = client.get("/maengel/?page=2").get_data(as_text=True)
    assert "Seite 2" in html and 'rel="prev"' in html and 'rel="next"' not in html
    assert f'/maengel/{ids[0]}"' in html
    html = client.get(f"/maengel/?category={categories['light']}").get_data(as_text=True)
    assert f"/maengel/{light}" in html and f'/maengel/{ids[0]}"' not in html
    html = client.get("/maengel/?status=fixed").get_data(as_text=True)
    assert f"/maengel/{light}" in html and f'/maengel/{ids[0]}"' not in html
    assert client.get("/maengel/?page=99").status_code == 200


def test_geojson_returns_points_inside_the_box_only(client, make_report):
    inside = make_report()
    outside_box = make_report(lat=50.70, lon=6.50)
    bbox = f"{INSIDE[1] - 0.01},{INSIDE[0] - 0.01},{INSIDE[1] + 0.01},{INSIDE[0] + 0.01}"
    response = client.get(f"/maengel/karte.json?bbox={bbox}")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    features = response.get_json()["features"]
    assert [f["properties"]["id"] for f in features] == [inside]
    assert features[0]["geometry"]["coordinates"] == [INSIDE[1], INSIDE[0]]
    # Nothing personal: number, status, category and the day it was reported (the popup's).
    assert set(features[0]["properties"]) == {"id", "status", "category", "date"}
    assert outside_box not in [f["properties"]["id"] for f in features]
    from mangel.models import Report

    with client.application.app_context():
        created = db.session.get(Report, inside).created_at
    assert abs(features[0]["properties"]["date"] - created.timestamp()) < 1


@pytest.mark.parametrize("bbox", ["", "1,2,3", "a,b,c,d", "6.5,50.7,6.4,50.8", "nan,1,2,3"])
def test_geojson_refuses_a_bad_box(client, bbox):
    response = client.get(f"/maengel/karte.json?bbox={bbox}")
    assert response.status_code == 400
    assert response.is_json


def test_geojson_clusters_when_many(make_app, categories, make_report):
    app = make_app(MANGEL_MAP_MAX_POINTS=5)
    for i in range(12):
        make_report(lat=INSIDE[0] + i * 0.0001, lon=INSIDE[1])
    make_report(lat=50.70, lon=6.52)
    features = app.test_client().get(f"/maengel/karte.json?bbox={TOWN_BBOX}").get_json()
    counts = [f["properties"]["count"] for f in features["features"]]
    assert all(f["properties"]["cluster"] for f in features["features"])
    assert sum(counts) == 13
    assert len(counts) < 13
    # Every report in a smaller box is in exactly one of its clusters.
    bbox = f"{INSIDE[1] - 0.004},{INSIDE[0] - 0.002},{INSIDE[1] + 0.004},{INSIDE[0] + 0.003}"
    features = app.test_client().get(f"/maengel/karte.json?bbox={bbox}").get_json()["features"]
    assert all(f["properties"]["cluster"] for f in features)
    assert sum(f["properties"]["count"] for f in features) == 12


def test_report_page_shows_history_and_notes_but_text_and_photos_only_when_released(
    app, client, make_report
):
    from mangel.models import Report, StatusChange

    report_id = make_report(status="in_progress", description="Loch mit Warnbake")
    with app.app_context():
        report = db.session.get(Report, report_id)
        report.history.append(
            StatusChange(status="in_progress", public_note="Der Bauhof ist informiert.")
        )
        db.session.commit()
    html = client.get(f"/maengel/{report_id}").get_data(as_text=True)
    assert "in Bearbeitung" in html and "Der Bauhof ist informiert." in html
    assert "Loch mit Warnbake" not in html
    assert "sobald die Verwaltung sie geprüft hat" in html
    with app.app_context():
        db.session.get(Report, report_id).description_released = True
        db.session.commit()
    assert "Loch mit Warnbake" in client.get(f"/maengel/{report_id}").get_data(as_text=True)


@pytest.fixture
def report_with_photo(app, client, form_post, submit, report_data) -> dict:
    """A report submitted with a photo and confirmed; returns its id and photo names."""
    assert submit(report_data(photos=[upload(photo())])).status_code == 302
    form_post(link_in(sent_mails(app)[-1], "/bestaetigen/meldung/"), {})
    from mangel.models import ReportPhoto

    with app.app_context():
        stored = db.session.scalars(select(ReportPhoto)).one()
        return {"id": stored.report_id, "file": stored.file_name, "thumb": stored.thumb_name}


def test_photos_are_served_only_once_released(app, client, report_with_photo):
    from mangel.models import Report

    url = f"/maengel/fotos/{report_with_photo['file']}"
    assert client.get(url).status_code == 404
    page = client.get(f"/maengel/{report_with_photo['id']}").get_data(as_text=True)
    assert report_with_photo["thumb"] not in page
    with app.app_context():
        db.session.get(Report, report_with_photo["id"]).photos_released = True
        db.session.commit()
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()
    page = client.get(f"/maengel/{report_with_photo['id']}").get_data(as_text=True)
    assert report_with_photo["thumb"] in page
    for name in ("../secret_key", "x.php", "00000000000000000000000000000000.jpg"):
        assert client.get(f"/maengel/fotos/{name}").status_code == 404


def test_staff_see_unreleased_photos(app, client, auth, make_user, report_with_photo):
    from mangel.models import Report

    with app.app_context():
        department_id = db.session.get(Report, report_with_photo["id"]).department_id
    make_user(departments=(department_id,))
    auth.login()
    response = client.get(f"/maengel/fotos/{report_with_photo['thumb']}")
    assert response.status_code == 200
    response.close()


def test_no_personal_data_in_any_public_response(app, client, report_with_photo):
    from mangel.models import Report

    with app.app_context():
        report = db.session.get(Report, report_with_photo["id"])
        report.description_released = report.photos_released = True
        report.reporter_phone = "02422 123456"
        category_id = report.category_id
        db.session.commit()
    report_id = report_with_photo["id"]
    urls = [
        "/maengel/",
        f"/maengel/{report_id}",
        f"/maengel/karte.json?bbox={TOWN_BBOX}",
        "/maengel/feed.atom",
        f"/maengel/feed.atom?category={category_id}",
        f"/maengel/feed.atom?bbox={TOWN_BBOX}",
        f"/maengel/fotos/{report_with_photo['file']}",
        f"/maengel/fotos/{report_with_photo['thumb']}",
        "/maengel/adressen.json?q=a",
    ]
    secrets = [REPORTER["email"], REPORTER["name"], "Mustermann", "erika", "02422 123456"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data()
        response.close()
        for secret in secrets:
            assert secret.encode() not in body, (url, secret)
            assert secret.lower().encode() not in body.lower(), (url, secret)


def test_feed_lists_reports_per_category_and_area(client, categories, make_report):
    pothole = make_report()
    light = make_report(category_id=categories["light"], lat=50.70, lon=6.52)
    response = client.get("/maengel/feed.atom")
    assert response.mimetype == "application/atom+xml"
    xml = response.get_data(as_text=True)
    assert xml.startswith("<?xml") and xml.count("<entry>") == 2
    xml = client.get(f"/maengel/feed.atom?category={categories['light']}").get_data(as_text=True)
    assert f"/maengel/{light}</id>" in xml and f"/maengel/{pothole}</id>" not in xml
    bbox = f"{INSIDE[1] - 0.01},{INSIDE[0] - 0.01},{INSIDE[1] + 0.01},{INSIDE[0] + 0.01}"
    xml = client.get(f"/maengel/feed.atom?bbox={bbox}").get_data(as_text=True)
    assert f"/maengel/{pothole}</id>" in xml and f"/maengel/{light}</id>" not in xml


def test_support_is_counted_once_per_email(app, client, form_post, make_report):
    report_id = make_report()
    page = f"/maengel/{report_id}"
    for email in ("nachbar@example.org", "Nachbar@Example.org ", "andere@example.org"):
        response = form_post(f"/maengel/{report_id}/unterstuetzen", {"email": email}, page=page)
        assert response.status_code == 302
    mails = sent_mails(app)
    assert len(mails) == 3
    links = [link_in(mail, "/bestaetigen/unterstuetzung/") for mail in mails]
    for link in links:
        form_post(link, {})
    from mangel.models import Support

    with app.app_context():
        supports = db.session.scalars(select(Support)).all()
        assert len(supports) == 2
        assert sum(1 for s in supports if s.confirmed_at) == 2
        assert all("example.org" not in s.email_hash for s in supports)
    html = client.get(page).get_data(as_text=True)
    assert "<dd>2</dd>" in html
    # Once counted, another request for the same address sends nothing and counts nothing.
    form_post(f"/maengel/{report_id}/unterstuetzen", {"email": "nachbar@example.org"}, page=page)
    assert len(sent_mails(app)) == 3
    assert count_rows(app)["report_support"] == 2
    assert "nachbar" not in client.get(page).get_data(as_text=True)


def test_unconfirmed_support_is_not_counted(app, client, form_post, make_report):
    report_id = make_report()
    form_post(
        f"/maengel/{report_id}/unterstuetzen",
        {"email": "nachbar@example.org"},
        page=f"/maengel/{report_id}",
    )
    assert "<dd>0</dd>" in client.get(f"/maengel/{report_id}").get_data(as_text=True)


def test_support_form_errors_rerender_the_page(client, form_post, make_report):
    report_id = make_report()
    response = form_post(
        f"/maengel/{report_id}/unterstuetzen", {"email": "kaputt@"}, page=f"/maengel/{report_id}"
    )
    assert response.status_code == 422
    assert "Bitte geben Sie eine gültige E-Mail-Adresse ein" in response.get_data(as_text=True)


def test_closed_reports_take_no_support(client, form_post, make_report):
    report_id = make_report(status="fixed")
    assert "Ich bin auch betroffen" not in client.get(f"/maengel/{report_id}").get_data(
        as_text=True
    )
    response = form_post(
        f"/maengel/{report_id}/unterstuetzen",
        {"email": "a@example.org"},
        page=f"/maengel/{report_id}",
    )
    assert response.status_code == 404


def test_map_clusters_follow_hiding_moving_and_deleting(make_app, categories, make_report):
    from mangel.mapdata import rebuild_clusters
    from mangel.models import MapCluster, Report

    app = make_app(MANGEL_MAP_MAX_POINTS=2)
    ids = [make_report(lat=INSIDE[0] + i * 0.0001, lon=INSIDE[1]) for i in range(6)]
    make_report(confirmed_at=None)

    def total() -> int:
        body = app.test_client().get(f"/maengel/karte.json?bbox={TOWN_BBOX}").get_json()
        assert all(f["properties"]["cluster"] for f in body["features"])
        return sum(f["properties"]["count"] for f in body["features"])

    def stored() -> set:
        with app.app_context():
            rows = db.session.scalars(select(MapCluster).where(MapCluster.count > 0))
            return {(c.level, c.row, c.col, c.count, round(c.lat_sum, 6)) for c in rows}

    assert total() == 6
    with app.app_context():
        db.session.get(Report, ids[0]).hidden = True
        db.session.get(Report, ids[1]).lat = 50.70
        db.session.delete(db.session.get(Report, ids[2]))
        db.session.commit()
    assert total() == 4
    incremental = stored()
    with app.app_context():
        assert rebuild_clusters(db.session.connection()) == 4
        db.session.commit()
    assert stored() == incremental
