"""Reporting through the web forms: the steps, every refusal, photos, duplicates."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from lotse.extensions import db
from tests.mangel.conftest import (
    INSIDE,
    OUTSIDE,
    REPORTER,
    count_rows,
    details_url,
    photo,
    sent_mails,
    upload,
    upload_files,
)

pytestmark = pytest.mark.both_dbs

EMPTY = {"report": 0, "report_photo": 0, "report_status_change": 0, "report_support": 0}


def test_steps_lead_from_category_to_the_form(client, categories):
    page = client.get("/maengel/neu").get_data(as_text=True)
    assert "Straßenbeleuchtung defekt" in page
    assert 'name="category"' in page
    page = client.get(f"/maengel/neu/ort?category={categories['light']}").get_data(as_text=True)
    assert 'name="address"' in page and 'name="lat"' in page and 'name="lon"' in page
    response = client.get(details_url(categories["light"]))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Mastnummer" in page and "Was ist los?" in page


def test_full_report_with_two_photos_and_an_extra_answer(app, client, submit, report_data):
    data = report_data(photos=[upload(photo()), upload(photo("PNG"), "b.png", "image/png")])
    response = submit(data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/maengel/neu/danke")

    from mangel.models import Report

    with app.app_context():
        report = db.session.scalars(select(Report)).one()
        assert report.answers == {"mastnummer": "KR-4711", "art": "1"}
        assert report.reporter_email == REPORTER["email"]
        assert report.reporter_name == REPORTER["name"]
        assert report.department.name == "Tiefbau"
        assert report.confirmed_at is None and report.confirm_token_hash
        assert [h.status for h in report.history] == ["open"]
        assert len(report.photos) == 2
        names = {n for p in report.photos for n in (p.file_name, p.thumb_name)}
    assert {p.name for p in upload_files(app)} == names
    mails = sent_mails(app)
    assert len(mails) == 1 and mails[0]["To"] == REPORTER["email"]
    assert "/maengel/bestaetigen/meldung/" in mails[0].get_body(("plain",)).get_content()


def test_stored_photos_are_upright_and_without_exif(app, submit, report_data):
    # Orientation 6: the camera was turned; stored upright the picture is portrait.
    data = report_data(photos=[upload(photo(size=(400, 200), orientation=6, gps=INSIDE))])
    assert submit(data).status_code == 302
    from mangel.models import ReportPhoto

    with app.app_context():
        stored = db.session.scalars(select(ReportPhoto)).one()
    for path in upload_files(app):
        with Image.open(path) as image:
            assert image.format == "JPEG"
            assert len(image.getexif()) == 0
            assert "exif" not in image.info
    with Image.open(upload_files(app)[0].parent / stored.file_name) as image:
        full = image.convert("RGB")
    assert full.size == (200, 400) == (stored.width, stored.height)
    # The red block was top-left in the sensor's frame; turned 90° clockwise it is top-right.
    assert full.getpixel((full.width - 5, 5))[0] > 150
    assert full.getpixel((5, 5))[2] > 150


def _polyglot() -> bytes:
    return b"GIF89a\x01\x00\x01\x00\x00\x00\x00;" + b'<?php system($_GET["c"]); ?>'


def _png_bomb() -> bytes:
    """About 47 KB of PNG that claims 8000 × 6000 pixels."""
    image = Image.new("1", (8000, 6000))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


# Photos as (content, file name, Content-Type): each test run opens its own streams.
INVALID = {
    "missing category": ({"category": ""}, "Bitte wählen Sie eine Kategorie."),
    "no location": ({"lat": "", "lon": ""}, "Bitte geben Sie den Ort an"),
    "outside boundary": (
        {"lat": str(OUTSIDE[0]), "lon": str(OUTSIDE[1])},
        "Dieser Ort liegt außerhalb von Musterstadt.",
    ),
    "description too long": (
        {"description": "x" * 2001},
        "Die Beschreibung darf höchstens 2000 Zeichen lang sein.",
    ),
    "missing description": ({"description": ""}, "Bitte beschreiben Sie den Mangel."),
    "wrong photo type": (
        {"photos": [(photo("GIF"), "bild.gif", "image/gif")]},
        "Bitte laden Sie ein Foto im Format JPEG, PNG, WebP oder HEIC hoch.",
    ),
    "php named like a photo": (
        {"photos": [(b'<?php echo "hi"; ?>', "x.jpg.php", "image/jpeg")]},
        "Bitte laden Sie ein Foto im Format JPEG, PNG, WebP oder HEIC hoch.",
    ),
    "polyglot": (
        {"photos": [(_polyglot(), "polyglot.jpg", "image/jpeg")]},
        "Bitte laden Sie ein Foto im Format JPEG, PNG, WebP oder HEIC hoch.",
    ),
    "png bomb": (
        {"photos": [(_png_bomb(), "klein.png", "image/png")]},
        "Das Foto hat zu viele Bildpunkte.",
    ),
    "too many photos": (
        {"photos": [(photo(), "foto.jpg", "image/jpeg")] * 4},
        "Bitte wählen Sie höchstens 3 Fotos.",
    ),
    "missing consent": ({"consent": None}, "Bitte stimmen Sie der Datenschutzerklärung zu."),
    "bad e-mail": ({"email": "erika@"}, "Bitte geben Sie eine gültige E-Mail-Adresse ein"),
    "missing e-mail": ({"email": ""}, "Bitte geben Sie Ihre E-Mail-Adresse an."),
    "required answer missing": ({"q_art": None}, "Bitte beantworten Sie diese Frage."),
}


def test_png_bomb_is_small():
    assert len(_png_bomb()) < 60_000


@pytest.mark.parametrize("change, message", INVALID.values(), ids=INVALID.keys())
def test_invalid_input_rerenders_with_message_and_stores_nothing(
    app, submit, report_data, change, message
):
    if "photos" in change:
        change = {**change, "photos": [upload(*spec) for spec in change["photos"]]}
    data = report_data(**change)
    if "photos" not in change and "description" not in change:
        data["photos"] = [upload(photo())]  # a good photo is not stored either
    response = submit(data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "Bitte prüfen Sie Ihre Angaben" in html
    assert 'class="error-message"' in html
    # The citizen's input is still there.
    if change.get("description") is None or change.get("description") != "":
        kept = data["description"][:40]
        assert kept in html
    if data.get("email"):
        assert f'value="{data["email"]}"' in html
    assert count_rows(app) == EMPTY
    assert upload_files(app) == []
    assert sent_mails(app) == []


def test_oversized_request_keeps_the_form(make_app, categories):
    from tests.conftest import csrf_token_from

    app = make_app(MANGEL_MAX_UPLOAD_BYTES=100_000)
    client = app.test_client()
    page = client.get(details_url(categories["light"])).get_data(as_text=True)
    big = photo(size=(1600, 1200)) + bytes(150_000)
    response = client.post(
        "/maengel/neu/angaben",
        data={
            "csrf_token": csrf_token_from(page),
            "category": categories["light"],
            "lat": INSIDE[0],
            "lon": INSIDE[1],
            "description": "Laterne dunkel, Foto anbei",
            "q_art": "1",
            "email": REPORTER["email"],
            "consent": "y",
            "photos": [upload(big)],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Die Fotos sind zusammen zu groß" in html
    assert "Laterne dunkel, Foto anbei" in html
    assert count_rows(app) == EMPTY and upload_files(app) == []


def test_request_beyond_the_hard_limit_gets_the_german_413_page(make_app, categories):
    app = make_app(MAX_CONTENT_LENGTH=50_000)
    response = app.test_client().post(
        "/maengel/neu/angaben",
        data={"photos": [upload(bytes(60_000))]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "Die gesendeten Daten sind zu groß" in response.get_data(as_text=True)


def test_photo_required_by_the_category(app, submit, report_data, categories):
    from mangel.models import Category

    with app.app_context():
        db.session.get(Category, categories["light"]).photo_required = True
        db.session.commit()
    response = submit(report_data())
    assert response.status_code == 422
    assert "brauchen wir mindestens ein Foto" in response.get_data(as_text=True)
    assert count_rows(app) == EMPTY


def test_post_without_csrf_token_is_refused(app, client, report_data):
    response = client.post("/maengel/neu/angaben", data=report_data())
    assert response.status_code == 400
    assert count_rows(app) == EMPTY


def test_honeypot_pretends_success_and_stores_nothing(app, submit, report_data):
    response = submit(report_data(website="http://spam.example"))
    assert response.status_code == 302
    assert count_rows(app) == EMPTY and sent_mails(app) == []


def test_inactive_category_cannot_be_chosen(app, client, categories):
    from mangel.models import Category

    with app.app_context():
        db.session.get(Category, categories["pothole"]).active = False
        db.session.commit()
    assert "Schlagloch" not in client.get("/maengel/neu").get_data(as_text=True)
    response = client.get(f"/maengel/neu/ort?category={categories['pothole']}")
    assert response.status_code == 422
    assert "Bitte wählen Sie eine Kategorie." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query, message",
    [
        (f"lat={OUTSIDE[0]}&lon={OUTSIDE[1]}", "Dieser Ort liegt außerhalb von Musterstadt."),
        ("lat=&lon=&pin=start", "Markierung steht noch am Startpunkt"),
        ("lat=abc&lon=6.49", "Bitte geben Sie Breite und Länge als Dezimalzahlen ein"),
        ("lat=&lon=", "Bitte geben Sie den Ort an"),
    ],
    ids=["outside", "default pin", "not a number", "nothing"],
)
def test_location_step_refuses_with_the_input_kept(client, categories, query, message):
    response = client.get(f"/maengel/neu/angaben?category={categories['pothole']}&{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html
    lat = query.split("&")[0].split("=")[1]
    if lat:
        assert f'value="{lat}"' in html


def test_coordinates_with_german_decimal_comma(client, categories):
    response = client.get(
        f"/maengel/neu/angaben?category={categories['pothole']}&lat=50,7489&lon=6,4935&new=1"
    )
    assert response.status_code == 200
    assert "50.7489, 6.4935" in response.get_data(as_text=True)


def test_duplicates_step_offers_nearby_open_reports_of_the_same_category(
    client, categories, make_report
):
    near = make_report(lat=INSIDE[0] + 0.0002, lon=INSIDE[1])  # about 22 m away
    far = make_report(lat=INSIDE[0] + 0.005, lon=INSIDE[1])  # about 550 m away
    closed = make_report(lat=INSIDE[0], lon=INSIDE[1] + 0.0001, status="fixed")
    other = make_report(category_id=categories["light"], lat=INSIDE[0], lon=INSIDE[1])
    unconfirmed = make_report(confirmed_at=None, lat=INSIDE[0], lon=INSIDE[1])
    url = f"/maengel/neu/angaben?category={categories['pothole']}&lat={INSIDE[0]}&lon={INSIDE[1]}"
    html = client.get(url).get_data(as_text=True)
    assert "Schon gemeldet? Unterstützen statt neu melden" in html
    assert f"/maengel/{near}#unterstuetzen" in html
    for report_id in (far, closed, other, unconfirmed):
        assert f"/maengel/{report_id}#" not in html
    # "Mein Anliegen ist neu" leads on to the form.
    assert "new=1" in html
    html = client.get(url + "&new=1").get_data(as_text=True)
    assert "Beschreiben Sie den Mangel" in html


def test_no_duplicates_step_without_similar_reports(client, categories):
    url = f"/maengel/neu/angaben?category={categories['pothole']}&lat={INSIDE[0]}&lon={INSIDE[1]}"
    html = client.get(url).get_data(as_text=True)
    assert "Schon gemeldet?" not in html
    assert "Beschreiben Sie den Mangel" in html


CENTRE = (50.747, 6.491)  # MAP_CENTER, the map's start point and the forms' example


def test_a_point_placed_or_typed_at_the_map_centre_is_taken(
    client, form_post, categories, submit, report_data
):
    """Whether the citizen placed a point counts, not where: the centre is a place too."""
    typed = f"/maengel/neu/angaben?category={categories['pothole']}&lat={CENTRE[0]}&lon={CENTRE[1]}"
    assert client.get(typed + "&pin=placed").status_code == 200
    assert client.get(typed).status_code == 200  # no script: typed by hand
    url = f"/maengel/neu/ort?category={categories['pothole']}"
    from_photo = form_post(
        "/maengel/neu/ort/foto",
        {"category": categories["pothole"], "photo": [upload(photo(gps=CENTRE))]},
        page=url,
        content_type="multipart/form-data",
    )
    assert from_photo.status_code == 302
    assert "lat=50.747" in from_photo.headers["Location"]
    response = submit(report_data(lat=str(CENTRE[0]), lon=str(CENTRE[1])))
    assert response.status_code == 302


def test_location_taken_from_a_photo(app, client, form_post, categories):
    url = f"/maengel/neu/ort?category={categories['pothole']}"
    response = form_post(
        "/maengel/neu/ort/foto",
        {"category": categories["pothole"], "photo": [upload(photo(gps=INSIDE))]},
        page=url,
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "lat=50.7489" in location and "lon=6.4935" in location
    assert upload_files(app) == []
    response = form_post(
        "/maengel/neu/ort/foto",
        {"category": categories["pothole"], "photo": [upload(photo())]},
        page=url,
        content_type="multipart/form-data",
    )
    assert "keine Ortsangabe" in response.get_data(as_text=True)


def test_anonymous_reports_when_the_town_allows_them(make_app, categories, report_data):
    from tests.conftest import csrf_token_from

    app = make_app(MANGEL_ALLOW_ANONYMOUS=True)
    client = app.test_client()
    page = client.get(details_url(categories["light"])).get_data(as_text=True)
    data = report_data(email="", name="", csrf_token=csrf_token_from(page))
    response = client.post("/maengel/neu/angaben", data=data)
    assert response.status_code == 302
    assert "/maengel/verfolgen/" in response.headers["Location"]
    assert client.get(response.headers["Location"]).status_code == 200
    assert client.get("/maengel/1").status_code == 200


def test_submissions_are_limited_per_email(make_app, categories, report_data):
    from tests.conftest import csrf_token_from

    app = make_app(MANGEL_REPORT_LIMIT_PER_EMAIL="2 per hour")
    client = app.test_client()
    statuses = []
    for _ in range(3):
        page = client.get(details_url(categories["light"])).get_data(as_text=True)
        data = report_data(csrf_token=csrf_token_from(page))
        statuses.append(client.post("/maengel/neu/angaben", data=data).status_code)
    assert statuses == [302, 302, 429]
    assert count_rows(app)["report"] == 2


def test_submissions_are_limited_per_ip(make_app, categories):
    from tests.conftest import csrf_token_from

    app = make_app(MANGEL_REPORT_LIMIT_PER_IP="2 per hour")
    client = app.test_client()
    page = client.get(details_url(categories["light"])).get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page)}
    statuses = [client.post("/maengel/neu/angaben", data=data).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    response = client.post("/maengel/neu/angaben", data=data)
    assert "Zu viele Anfragen" in response.get_data(as_text=True)
