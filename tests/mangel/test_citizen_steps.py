"""The citizen's way through the steps (issue 22): the chosen address travels with the
report, going back keeps everything typed and chosen, photo-first reporting keeps the photo,
the no-JavaScript address candidates list every house number, the confirmation link can be
clicked twice, and the thanks page mails the link again."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from lotse.extensions import db
from tests.conftest import csrf_token_from
from tests.mangel.conftest import (
    INSIDE,
    REPORTER,
    details_url,
    photo,
    sent_mails,
    upload,
    upload_files,
)

pytestmark = pytest.mark.both_dbs

STREET = "Bahnhofstraße"


@pytest.fixture
def addresses(app):
    """Bahnhofstraße 1–18 (number 12 at INSIDE) and one Bahnhofsplatz."""
    from mangel.models import Address
    from mangel.places import search_key

    with app.app_context():
        for number in range(1, 19):
            lat = INSIDE[0] + (number - 12) * 0.00005
            db.session.add(
                Address(
                    street=STREET,
                    house_number=str(number),
                    postcode="52372",
                    city="Musterstadt",
                    search_key=search_key(f"{STREET} {number}"),
                    lat=lat,
                    lon=INSIDE[1],
                )
            )
        db.session.add(
            Address(
                street="Bahnhofsplatz",
                house_number="1",
                search_key=search_key("Bahnhofsplatz 1"),
                lat=INSIDE[0],
                lon=INSIDE[1] + 0.0005,
            )
        )
        db.session.commit()


def only_report(app):
    from mangel.models import Report

    with app.app_context():
        report = db.session.scalars(select(Report)).one()
        report.photos  # noqa: B018 - loaded before the session closes
        db.session.expunge(report)
        return report


def test_the_chosen_address_travels_to_step_3_and_stays_with_the_report(
    app, client, form_post, categories, addresses, make_report
):
    step2 = f"/maengel/neu/ort?category={categories['pothole']}&address=Bahnhofstra%C3%9Fe+12"
    response = client.get(step2.replace("/ort?", "/angaben?") + "&new=1")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    place = re.search(r"<dt>Ort</dt>\s*<dd>(.*?)</dd>", page, re.S).group(1)
    assert "<strong>Bahnhofstraße 12</strong>" in place
    assert str(INSIDE[0]) not in place  # no coordinates as the place
    response = form_post(
        "/maengel/neu/angaben",
        {
            "category": str(categories["pothole"]),
            "lat": str(INSIDE[0]),
            "lon": str(INSIDE[1]),
            "address": "Bahnhofstraße 12",
            "description": "Tiefes Loch",
            "email": REPORTER["email"],
            "consent": "y",
        },
        page=step2.replace("/ort?", "/angaben?") + "&new=1",
    )
    assert response.status_code == 302
    report = only_report(app)
    assert report.address_label == "Bahnhofstraße 12"


def test_an_address_picked_by_the_combobox_with_its_point_is_named_in_step_3(
    client, categories, addresses
):
    url = details_url(categories["pothole"]) + "&address=Bahnhofstra%C3%9Fe+12%2C+52372+Musterstadt"
    page = client.get(url).get_data(as_text=True)
    assert "<strong>Bahnhofstraße 12</strong>" in page
    assert 'name="address" type="hidden" value="Bahnhofstraße 12"' in page


def test_a_pin_moved_away_from_the_address_drops_it_and_names_the_nearest(
    client, categories, addresses
):
    # 300 m away from number 12: the typed address no longer names the point.
    far = (INSIDE[0] + 0.0027, INSIDE[1])
    url = details_url(categories["pothole"], far) + "&address=Bahnhofstra%C3%9Fe+12"
    page = client.get(url).get_data(as_text=True)
    assert "Bahnhofstraße 12</strong>" not in page
    near = details_url(categories["pothole"], (INSIDE[0] + 0.00001, INSIDE[1]))
    assert "<strong>nahe Bahnhofstraße 12</strong>" in client.get(near).get_data(as_text=True)


def test_free_text_is_never_stored_as_the_place(app, submit, report_data, addresses):
    assert submit(report_data(address="Meine Wohnung, 3. Stock")).status_code == 302
    assert only_report(app).address_label == ""


def test_public_pages_show_the_address_not_the_coordinates_first(client, make_report, addresses):
    report_id = make_report(address_label="Bahnhofstraße 12")
    page = client.get(f"/maengel/{report_id}").get_data(as_text=True)
    assert re.search(r"<dt>Ort</dt><dd>Bahnhofstraße 12 <span", page)
    assert "Bahnhofstraße 12" in client.get("/maengel/").get_data(as_text=True)


def test_going_back_to_change_the_place_keeps_everything_typed_and_chosen(
    app, client, categories, addresses
):
    page = client.get(details_url(categories["light"]) + "&address=Bahnhofstra%C3%9Fe+12")
    token = csrf_token_from(page.get_data(as_text=True))
    typed = {
        "csrf_token": token,
        "category": str(categories["light"]),
        "lat": str(INSIDE[0]),
        "lon": str(INSIDE[1]),
        "address": "Bahnhofstraße 12",
        "description": "Die Laterne flackert seit Montag.",
        "q_mastnummer": "KR-4711",
        "q_art": "2",
        "name": REPORTER["name"],
        "email": REPORTER["email"],
        "phone": "0241 12345",
        "back": "location",
        "photos": [upload(photo())],
    }
    response = client.post("/maengel/neu/entwurf", data=typed, content_type="multipart/form-data")
    assert response.status_code == 302
    step2 = response.headers["Location"]
    assert "/maengel/neu/ort?" in step2 and "address=Bahnhofstra" in step2
    page = client.get(step2).get_data(as_text=True)
    assert 'value="Bahnhofstraße 12"' in page  # the address field is filled again
    assert "Ihr Foto ist gespeichert" in page

    # Another place (number 14), and step 3 holds everything as it was.
    other = (INSIDE[0] + 0.0001, INSIDE[1])
    page = client.get(
        details_url(categories["light"], other) + "&address=Bahnhofstra%C3%9Fe+14"
    ).get_data(as_text=True)
    assert "<strong>Bahnhofstraße 14</strong>" in page
    assert "Die Laterne flackert seit Montag." in page
    assert 'value="KR-4711"' in page and 'value="0241 12345"' in page
    assert f'value="{REPORTER["email"]}"' in page and f'value="{REPORTER["name"]}"' in page
    assert re.search(r'value="2"[^>]*checked|checked[^>]*value="2"', page)
    assert "Dieses Foto fügen wir der Meldung bei." in page

    # Sending it stores the kept photo with the report, and the draft is gone.
    data = {k: v for k, v in typed.items() if k not in ("back", "photos")}
    data.update(
        csrf_token=csrf_token_from(page), lat=str(other[0]), address="Bahnhofstraße 14", consent="y"
    )
    response = client.post("/maengel/neu/angaben", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    report = only_report(app)
    assert report.address_label == "Bahnhofstraße 14"
    assert report.description == "Die Laterne flackert seit Montag."
    from mangel.models import ReportPhoto

    with app.app_context():
        assert db.session.scalars(select(ReportPhoto)).one().report_id == report.id
    assert len(upload_files(app)) == 2
    assert not list((Path(app.instance_path) / "drafts").glob("*"))  # the draft is gone
    fresh = client.get(details_url(categories["light"])).get_data(as_text=True)
    assert "Die Laterne flackert seit Montag." not in fresh


def test_a_form_sent_back_with_a_mistake_keeps_its_photos(app, client, submit, report_data):
    response = submit(report_data(email="", photos=[upload(photo())]))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Dieses Foto fügen wir der Meldung bei." in page
    assert "Bitte wählen Sie sie noch einmal aus" not in page
    data = report_data()
    data["csrf_token"] = csrf_token_from(page)
    response = client.post("/maengel/neu/angaben", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert len(only_report(app).photos) == 1


def test_a_kept_photo_can_be_removed(app, client, submit, report_data):
    page = submit(report_data(email="", photos=[upload(photo())])).get_data(as_text=True)
    name = re.search(r'name="drop_photo" value="([0-9a-f]+\.jpg)"', page).group(1)
    data = report_data(drop_photo=name)
    data["csrf_token"] = csrf_token_from(page)
    assert client.post("/maengel/neu/angaben", data=data).status_code == 302
    assert only_report(app).photos == []
    assert upload_files(app) == []


def test_photo_first_places_the_pin_and_keeps_the_photo_re_encoded(
    app, client, form_post, categories
):
    step2 = f"/maengel/neu/ort?category={categories['pothole']}"
    page = client.get(step2).get_data(as_text=True)
    # The photo comes first on the page, before the map and the "Weiter" button.
    assert page.index("Foto aufnehmen – wir setzen den Ort aus dem Foto") < page.index("Weiter")
    assert 'capture="environment"' in page
    response = form_post(
        "/maengel/neu/ort/foto",
        {"category": categories["pothole"], "photo": [upload(photo(gps=INSIDE))]},
        page=step2,
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert "lat=50.7489" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "das Foto Ihrer Meldung beigefügt" in page
    thumb = re.search(r'src="(/maengel/neu/entwurf/foto/[0-9a-f]+_t\.jpg)"', page).group(1)
    shown = client.get(thumb)
    shown.close()
    assert shown.status_code == 200
    assert app.test_client().get(thumb).status_code == 404  # another browser: nothing

    page = client.get(details_url(categories["pothole"])).get_data(as_text=True)
    assert "Dieses Foto fügen wir der Meldung bei." in page
    data = {
        "csrf_token": csrf_token_from(page),
        "category": str(categories["pothole"]),
        "lat": str(INSIDE[0]),
        "lon": str(INSIDE[1]),
        "description": "Loch",
        "email": REPORTER["email"],
        "consent": "y",
    }
    assert client.post("/maengel/neu/angaben", data=data).status_code == 302
    [stored] = only_report(app).photos
    with Image.open(upload_files(app)[0].parent / stored.file_name) as image:
        assert image.format == "JPEG"
        assert len(image.getexif()) == 0  # the position it was taken at is gone


def test_a_photo_without_position_is_kept_and_the_citizen_places_the_pin(
    client, form_post, categories
):
    step2 = f"/maengel/neu/ort?category={categories['pothole']}"
    response = form_post(
        "/maengel/neu/ort/foto",
        {"category": categories["pothole"], "photo": [upload(photo())]},
        page=step2,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Ihr Foto ist gespeichert, aber es enthält keine Ortsangabe" in page
    assert "Ihr Foto ist gespeichert und wird der Meldung beigefügt." in page


def test_a_broken_photo_gets_its_message_next_to_the_photo_field(client, form_post, categories):
    step2 = f"/maengel/neu/ort?category={categories['pothole']}"
    response = form_post(
        "/maengel/neu/ort/foto",
        {"category": categories["pothole"], "photo": [upload(b"not an image")]},
        page=step2,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="photo-error"' in page


def test_no_js_candidates_list_every_house_number_grouped_by_street(client, categories, addresses):
    url = f"/maengel/neu/angaben?category={categories['pothole']}&address=Bahnhof"
    response = client.get(url)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    numbers = re.findall(r'aria-label="Bahnhofstraße (\d+), 52372 Musterstadt">\1</a>', page)
    assert sorted(map(int, numbers)) == list(range(1, 19))
    assert page.count('class="candidates__street"') == 2  # Bahnhofsplatz and Bahnhofstraße
    link = re.search(r'href="([^"]+)" aria-label="Bahnhofstraße 17,', page).group(1)
    page = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "<strong>Bahnhofstraße 17</strong>" in page


def confirm_link(app) -> str:
    [mail] = [m for m in sent_mails(app) if "Bitte bestätigen" in str(m["Subject"])][-1:]
    text = mail.get_body(("plain",)).get_content()
    return re.search(r"http://localhost(/maengel/bestaetigen/meldung/\S+)", text).group(1)


def test_second_click_on_the_confirmation_link_opens_the_tracking_page(
    app, client, form_post, submit, report_data
):
    assert submit(report_data()).status_code == 302
    link = confirm_link(app)
    tracking = form_post(link, {}).headers["Location"]
    mails = len(sent_mails(app))
    other_browser = app.test_client()
    again = other_browser.get(link, follow_redirects=True)
    assert again.status_code == 200
    assert again.request.path == tracking
    page = again.get_data(as_text=True)
    assert "Ihre Meldung ist bereits bestätigt" in page
    assert "Die Laterne vor Haus 12" in page  # the reporter's own page
    # Posting the form of an old tab again confirms nothing twice, and nobody is mailed.
    assert form_post(link, {}).headers["Location"] == tracking
    assert len(sent_mails(app)) == mails


def test_second_click_on_a_support_link_says_it_is_counted(app, client, form_post, make_report):
    report_id = make_report()
    form_post(
        f"/maengel/{report_id}/unterstuetzen",
        {"email": "fan@example.org"},
        page=f"/maengel/{report_id}",
    )
    [mail] = [m for m in sent_mails(app) if "Unterstützung" in str(m["Subject"])]
    link = re.search(
        r"http://localhost(/maengel/bestaetigen/unterstuetzung/\S+)",
        mail.get_body(("plain",)).get_content(),
    ).group(1)
    form_post(link, {})
    again = client.get(link, follow_redirects=True)
    assert again.request.path == f"/maengel/{report_id}"
    assert "Ihre Unterstützung ist bereits gezählt" in again.get_data(as_text=True)


def test_thanks_page_sends_the_mail_again_with_a_new_link_and_a_limit(
    app, client, form_post, submit, report_data
):
    app.config["MANGEL_RESEND_LIMIT_PER_REPORT"] = "2 per hour"
    assert submit(report_data()).status_code == 302
    first = confirm_link(app)
    page = client.get("/maengel/neu/danke").get_data(as_text=True)
    assert "Mail erneut senden" in page
    assert "e•••@example.org" in page  # whose inbox to look in, not the whole address
    response = form_post("/maengel/neu/danke", {}, follow_redirects=True)
    assert "noch einmal an e•••@example.org geschickt" in response.get_data(as_text=True)
    mails = [m for m in sent_mails(app) if "Bitte bestätigen" in str(m["Subject"])]
    assert [m["To"] for m in mails] == [REPORTER["email"]] * 2
    second = confirm_link(app)
    assert second != first
    assert client.get(first).status_code == 404  # only the newest link is out there
    assert client.get(second).status_code == 200
    form_post("/maengel/neu/danke", {})
    response = form_post("/maengel/neu/danke", {}, follow_redirects=True)
    assert "schon mehrmals geschickt" in response.get_data(as_text=True)
    assert len([m for m in sent_mails(app) if "Bitte bestätigen" in str(m["Subject"])]) == 3


def test_resend_needs_a_report_of_this_browser(client, form_post):
    response = form_post("/maengel/neu/danke", {}, follow_redirects=True)
    assert "Wir finden keine Meldung" in response.get_data(as_text=True)
    assert "Mail erneut senden" not in response.get_data(as_text=True)


def test_the_sweep_deletes_drafts_left_for_a_day(app, client, runner, form_post, categories):
    import os
    import time

    step2 = f"/maengel/neu/ort?category={categories['pothole']}"
    form_post(
        "/maengel/neu/ort/foto",
        {"category": categories["pothole"], "photo": [upload(photo(gps=INSIDE))]},
        page=step2,
        content_type="multipart/form-data",
    )
    [draft] = (Path(app.instance_path) / "drafts").iterdir()
    assert len(list(draft.glob("*.jpg"))) == 2  # the photo and its thumbnail
    assert runner.invoke(args=["lotse", "sweep"]).exit_code == 0
    assert draft.exists()  # fresh: kept
    old = time.time() - 25 * 3600
    os.utime(draft / "draft.json", (old, old))
    assert runner.invoke(args=["lotse", "sweep"]).exit_code == 0
    assert not draft.exists()


def test_changing_the_category_keeps_the_place_and_the_text(app, client, categories, addresses):
    page = client.get(details_url(categories["pothole"]) + "&address=Bahnhofstra%C3%9Fe+12")
    response = client.post(
        "/maengel/neu/entwurf",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "category": str(categories["pothole"]),
            "lat": str(INSIDE[0]),
            "lon": str(INSIDE[1]),
            "address": "Bahnhofstraße 12",
            "description": "Eigentlich ist es die Laterne.",
            "back": "category",
        },
    )
    assert response.headers["Location"].endswith("/maengel/neu")
    page = client.get(f"/maengel/neu/ort?category={categories['light']}").get_data(as_text=True)
    assert 'value="Bahnhofstraße 12"' in page and f'value="{INSIDE[0]}"' in page
    page = client.get(details_url(categories["light"]) + "&address=Bahnhofstra%C3%9Fe+12")
    text = page.get_data(as_text=True)
    assert "Straßenbeleuchtung defekt" in text and "Eigentlich ist es die Laterne." in text
