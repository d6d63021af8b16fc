"""POST requests: validation like the web form, keys, confirmation policy, routing, photos."""

from __future__ import annotations

import pytest

from lotse.extensions import db
from tests.mangel.conftest import INSIDE, OUTSIDE, REPORTER, count_rows, photo, upload
from tests.mangel.open311.conftest import error_of, records

pytestmark = pytest.mark.both_dbs
FORMATS = pytest.mark.parametrize("fmt", ["xml", "json"])


def _department_of(app, category_id: int) -> int | None:
    from mangel.models import Category

    with app.app_context():
        return db.session.get(Category, category_id).department_id


def _report(app, report_id: int):
    from mangel.models import Report

    with app.app_context():
        report = db.session.get(Report, report_id)
        db.session.expunge(report)
        return report


@FORMATS
def test_untrusted_key_stores_an_unconfirmed_report_and_mails_the_reporter(
    app, make_key, post_request, mailbox, categories, fmt
):
    key = make_key()
    response = post_request(fmt, api_key=key)
    assert response.status_code == 200, response.data
    (item,) = records(response, fmt, "service_requests")
    assert item["service_notice"].startswith("The reporter has to confirm")
    assert item["account_id"] in (None, "")
    report = _report(app, int(item["service_request_id"]))
    assert report.confirmed_at is None
    assert report.source == "open311"
    assert report.description == "Großes Schlagloch vor der Bäckerei"
    assert report.reporter_name == "Erika Mustermann"
    # Routed from the category, exactly like a report from the web form.
    assert report.department_id == _department_of(app, categories["pothole"]) is not None
    (mail,) = mailbox.messages()
    assert mail["To"] == REPORTER["email"]


def test_trusted_key_confirms_at_once_and_fires_report_confirmed(
    app, client, make_key, post_request, categories
):
    from mangel.signals import report_confirmed

    received = []

    def receiver(report):
        received.append((report.id, report.department_id))

    report_confirmed.connect(receiver)
    try:
        response = post_request("json", api_key=make_key(trusted=True), email="")
    finally:
        report_confirmed.disconnect(receiver)
    assert response.status_code == 200, response.data
    report_id = int(response.get_json()[0]["service_request_id"])
    assert received == [(report_id, _department_of(app, categories["pothole"]))]
    assert _report(app, report_id).confirmed_at is not None
    item = client.get(f"/open311/v2/requests/{report_id}.json").get_json()[0]
    assert item["status"] == "open"


def test_umlauts_round_trip_through_post_and_get(app, client, make_key, post_request):
    text = "Übergroßes Loch, Äste und Öl – „gefährlich“ ß"
    response = post_request("xml", api_key=make_key(trusted=True), description=text)
    (item,) = records(response, "xml", "service_requests")
    from mangel.models import Report

    with app.app_context():
        report = db.session.get(Report, int(item["service_request_id"]))
        report.description_released = True
        db.session.commit()
    for fmt in ("xml", "json"):
        got = client.get(f"/open311/v2/requests/{item['service_request_id']}.{fmt}")
        assert records(got, fmt, "service_requests")[0]["description"] == text


@FORMATS
@pytest.mark.parametrize("api_key", [None, "", "lotse_falsch", "revoked"])
def test_missing_wrong_or_revoked_key_is_403_and_stores_nothing(
    app, make_key, post_request, api_key, fmt
):
    from lotse.models import utcnow
    from mangel.open311.apikey_models import ApiKey

    if api_key == "revoked":
        api_key = make_key()
        with app.app_context():
            for key in db.session.query(ApiKey):
                key.revoked_at = utcnow()
            db.session.commit()
    before = count_rows(app)
    error_of(post_request(fmt, api_key=api_key), fmt, 403)
    assert count_rows(app) == before


@FORMATS
def test_key_limited_to_other_categories_is_403(app, make_key, post_request, categories, fmt):
    key = make_key(category_ids=[categories["light"]])
    before = count_rows(app)
    error_of(post_request(fmt, api_key=key), fmt, 403)
    assert count_rows(app) == before


@FORMATS
@pytest.mark.parametrize(
    ("changes", "status", "fragment"),
    [
        ({"service_code": None}, 400, "service_code missing"),
        ({"service_code": ""}, 400, "service_code missing"),
        ({"service_code": "999"}, 404, "not found"),
        ({"lat": None, "long": None}, 400, "lat and long"),
        ({"lat": "", "long": ""}, 400, "lat and long"),
        ({"lat": str(OUTSIDE[0]), "long": str(OUTSIDE[1])}, 400, "inside the town"),
        ({"lat": None, "long": None, "address_string": "Nirgendwo 1"}, 400, "address_string"),
        ({"description": "x" * 4001}, 400, "description longer than 4000"),
        ({"email": None}, 400, "email missing"),
        ({"email": "keine-adresse"}, 400, "email is not"),
        ({"phone": "1" * 41}, 400, "phone"),
        ({"media": lambda: upload(b"<?php echo 1; ?>", "x.jpg")}, 400, "media"),
        ({"media_url": "ftp://example.org/x.jpg"}, 400, "media_url"),
    ],
)
def test_invalid_posts_are_refused_and_store_nothing(
    app, make_key, post_request, changes, status, fragment, fmt
):
    key = make_key()
    changes = {k: v() if callable(v) else v for k, v in changes.items()}  # fresh uploads
    before = count_rows(app)
    assert fragment in error_of(post_request(fmt, api_key=key, **changes), fmt, status)
    assert count_rows(app) == before


SURVEY_OK = {
    "attribute[flaeche]": "Spielplatz Süd",
    "attribute[anzahl]": "3,5",
    "attribute[seit]": "2026-11-01T08:00:00+01:00",
    "attribute[details]": "Hecke über den Weg gewachsen",
    "attribute[groesse]": "2",
    "attribute[art][]": ["a", "b"],
}


@FORMATS
@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"attribute[groesse]": None}, "attribute[groesse] is required"),
        ({"attribute[groesse]": "7"}, "attribute[groesse]: expected"),
        ({"attribute[art][]": ["a", "z"]}, "attribute[art]: expected"),
        ({"attribute[anzahl]": "viele"}, "attribute[anzahl]: expected"),
        ({"attribute[seit]": "irgendwann"}, "attribute[seit]: expected"),
        ({"attribute[flaeche]": "x" * 201}, "attribute[flaeche]: expected"),
    ],
)
def test_attributes_are_checked_like_the_web_form(
    app, make_key, post_request, survey, changes, fragment, fmt
):
    data = {**SURVEY_OK, **changes}
    before = count_rows(app)
    response = post_request(fmt, api_key=make_key(), service_code=str(survey), **data)
    assert fragment in error_of(response, fmt, 400)
    assert count_rows(app) == before


def test_valid_attributes_are_stored_as_answers(app, make_key, post_request, survey):
    response = post_request("json", api_key=make_key(), service_code=str(survey), **SURVEY_OK)
    assert response.status_code == 200, response.data
    report = _report(app, int(response.get_json()[0]["service_request_id"]))
    assert report.answers == {
        "flaeche": "Spielplatz Süd",
        "anzahl": "3,5",
        "seit": "2026-11-01",
        "details": "Hecke über den Weg gewachsen",
        "groesse": "2",
        "art": ["a", "b"],
    }


def test_media_upload_goes_through_the_photo_pipeline(app, make_key, post_request):
    response = post_request(
        "json", api_key=make_key(), media=upload(photo(gps=INSIDE)), media_url=None
    )
    assert response.status_code == 200, response.data
    report = _report(app, int(response.get_json()[0]["service_request_id"]))
    from mangel.models import ReportPhoto

    with app.app_context():
        (stored,) = db.session.query(ReportPhoto).filter_by(report_id=report.id).all()
        assert stored.width == 640


def test_photo_required_category_needs_media_or_media_url(app, make_key, post_request, categories):
    from mangel.models import Category

    with app.app_context():
        db.session.get(Category, categories["pothole"]).photo_required = True
        db.session.commit()
    before = count_rows(app)
    assert "needs a photo" in error_of(post_request("xml", api_key=make_key()), "xml", 400)
    assert count_rows(app) == before


def test_rate_limit_per_key_answers_429(app, make_key, post_request):
    key = make_key(rate_limit="1 per hour")
    assert post_request("json", api_key=key).status_code == 200
    error_of(post_request("json", api_key=key), "json", 429)


def test_post_needs_no_csrf_token_while_csrf_is_on(app, make_key, post_request):
    assert app.config.get("WTF_CSRF_ENABLED", True)
    assert post_request("json", api_key=make_key()).status_code == 200


def test_api_report_reaches_the_staff_inbox_and_is_delivered_like_a_web_report(
    app, client, auth, make_key, make_user, post_request, categories
):
    from sqlalchemy import select

    from mangel.routing.models import Delivery

    department_id = _department_of(app, categories["pothole"])
    response = post_request("json", api_key=make_key(trusted=True), email="")
    report_id = int(response.get_json()[0]["service_request_id"])

    with app.app_context():
        deliveries = db.session.scalars(
            select(Delivery).where(Delivery.report_id == report_id)
        ).all()
        assert [d.department_id for d in deliveries] == [department_id]

    make_user(email="sb@town.example", departments=(department_id,))
    auth.login(email="sb@town.example")
    inbox = client.get("/verwaltung/maengel/meldungen/").get_data(as_text=True)
    assert f"/verwaltung/maengel/meldungen/{report_id}" in inbox
    page = client.get(f"/verwaltung/maengel/meldungen/{report_id}")
    assert page.status_code == 200
    assert "Großes Schlagloch vor der Bäckerei" in page.get_data(as_text=True)
