"""The clerk's report page (issue 22): what comes first, what is folded, the history in
words, redaction by rectangles and the photo "danach" on the public page."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from lotse.extensions import db
from mangel.photos import photo_path
from tests.mangel.conftest import photo
from tests.mangel.test_workbench import BASE, add_photo, fetch, report_id, staff  # noqa: F401

pytestmark = pytest.mark.both_dbs


def test_inbox_marks_unconfirmed_reports(client, auth, make_report, staff):  # noqa: F811
    confirmed = make_report(department_id=staff["tiefbau"])
    unconfirmed = make_report(department_id=staff["tiefbau"], confirmed_at=None)
    auth.login("a@town.example")
    html = client.get(f"{BASE}/").get_data(as_text=True)
    rows = {
        int(m.group(1)): m.group(0)
        for m in re.finditer(r'<tr[^>]*>\s*<td><input[^>]*value="(\d+)".*?</tr>', html, re.S)
    }
    assert "unbestätigt" in rows[unconfirmed]
    assert "unbestätigt" not in rows[confirmed]
    page = client.get(f"{BASE}/{unconfirmed}").get_data(as_text=True)
    assert "unbestätigt" in page


def test_most_used_actions_come_first_the_rest_is_folded(client, auth, report_id):  # noqa: F811
    auth.login("a@town.example")
    html = client.get(f"{BASE}/{report_id}").get_data(as_text=True)
    order = [
        html.index(">Status ändern</h2>"),
        html.index(">Weiterleiten</h2>"),
        html.index("<summary>Interne Notiz schreiben"),
        html.index("<summary>Priorität und Termin"),
        html.index("<summary>Kategorie ändern"),
        html.index("<summary>Ort ändern"),
        html.index("<summary>Freigabe und Moderation"),
        html.index("<summary>Protokoll"),
    ]
    assert order == sorted(order)
    # nine forms, but only status and forward are open; the rest sit in closed <details>
    assert html.count('<details class="fold">') >= 6
    assert '<details class="fold" open>' not in html


def test_a_folded_form_with_an_error_opens_itself(client, auth, form_post, report_id):  # noqa: F811
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    response = form_post(f"{url}/ort", {"lat": "10", "lon": "10"}, page=url)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    folded = html[html.index("<summary>Ort ändern") - 60 : html.index("<summary>Ort ändern")]
    assert "open" in folded
    assert "außerhalb des Gemeindegebiets" in html


def test_priority_and_due_date_history_reads_as_words(client, auth, form_post, report_id):  # noqa: F811
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    form_post(f"{url}/planung", {"priority": "1", "due_date": "2026-12-09"}, page=url)
    form_post(f"{url}/planung", {"priority": "1", "due_date": "2026-12-11"}, page=url)
    form_post(f"{url}/planung", {"priority": "0", "due_date": ""}, page=url)
    html = client.get(url).get_data(as_text=True)
    assert "Priorität normal → hoch, Frist 09.12.2026" in html
    assert "Frist 09.12.2026 → 11.12.2026" in html
    assert "Priorität hoch → normal, Frist entfernt (war 11.12.2026)" in html
    assert "0/–" not in html and "2026-12-09" not in html


def _pixels(app, photo_id):
    from mangel import services
    from mangel.models import ReportPhoto

    with app.app_context():
        row = db.session.get(ReportPhoto, photo_id)
        path = photo_path(services.upload_dir(), row.file_name)
        with Image.open(path) as raw:
            return row.file_name, raw.convert("RGB")


def test_drawn_rectangles_black_out_the_public_photo(
    app,
    client,
    auth,
    form_post,
    report_id,  # noqa: F811
):
    photo_id, original = add_photo(app, report_id)
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    page = client.get(url).get_data(as_text=True)
    assert "Bereiche schwärzen" in page and 'name="rects"' in page
    response = form_post(
        f"{url}/fotos/{photo_id}/schwaerzen", {"rects": "10,10,50,40;400,300,100,80"}, page=url
    )
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "2 Bereiche sind geschwärzt" in page
    assert "Foto 1: 50 × 40 Pixel bei 10, 10; 100 × 80 Pixel bei 400, 300" in page  # the log
    name, image = _pixels(app, photo_id)
    assert name != original and fetch(client, f"/maengel/fotos/{original}")[0] == 404
    assert max(image.getpixel((30, 30))) < 30 and max(image.getpixel((450, 340))) < 30
    assert image.getpixel((300, 200))[2] > 150  # the rest untouched
    # released, the public gets the redacted file only
    form_post(f"{url}/freigabe", {"description": "Loch", "photos_released": "y"}, page=url)
    auth.logout()
    public = client.get(f"/maengel/{report_id}").get_data(as_text=True)
    assert name in public.replace("_t.jpg", ".jpg") and original not in public
    status, data = fetch(client, f"/maengel/fotos/{name}")
    assert status == 200
    with Image.open(io.BytesIO(data)) as served:
        assert max(served.convert("RGB").getpixel((30, 30))) < 30


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Bitte ziehen Sie ein Rechteck über das Foto"),
        ({"rects": "1,2,drei,4"}, "nicht lesbar"),
        ({"x": "5000", "y": "5000", "w": "10", "h": "10"}, "außerhalb des Fotos"),
        ({"x": "5", "y": "", "w": "10", "h": "10"}, "Bitte ziehen Sie ein Rechteck"),
    ],
)
def test_unusable_rectangles_are_refused_next_to_the_form(
    app,
    client,
    auth,
    form_post,
    report_id,  # noqa: F811
    data,
    message,
):
    photo_id, original = add_photo(app, report_id)
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    response = form_post(f"{url}/fotos/{photo_id}/schwaerzen", data, page=url)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert '<details class="fold redact" open>' in html
    assert _pixels(app, photo_id)[0] == original


def test_after_photo_is_released_with_the_closing_note(
    app,
    client,
    auth,
    form_post,
    report_id,  # noqa: F811
):
    from mangel.workbench.models import AfterPhoto

    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    response = form_post(
        f"{url}/status",
        {
            "status": "fixed",
            "public_note": "Das Loch ist verfüllt.",
            "after_photo": (io.BytesIO(photo()), "nachher.jpg"),
        },
        page=url,
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        after = db.session.scalars(select(AfterPhoto)).one()
        name, thumb = after.file_name, after.thumb_name
    auth.logout()
    public = client.get(f"/maengel/{report_id}").get_data(as_text=True)
    assert "Das Loch ist verfüllt." in public
    assert "Foto danach" in public and f"/maengel/fotos/nachher/{thumb}" in public
    status, data = fetch(client, f"/maengel/fotos/nachher/{name}")
    assert status == 200
    with Image.open(io.BytesIO(data)) as served:
        assert served.format == "JPEG" and "exif" not in served.info  # re-encoded


def test_after_photo_only_when_fixed_and_only_a_photo(
    app,
    client,
    auth,
    form_post,
    report_id,  # noqa: F811
):
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"

    def close(status: str, content: bytes):
        data = {"status": status, "after_photo": (io.BytesIO(content), "x.jpg")}
        return form_post(f"{url}/status", data, page=url, content_type="multipart/form-data")

    response = close("in_progress", photo())
    assert response.status_code == 422
    assert "Ein Foto danach gibt es nur zum Status „erledigt“" in response.get_data(as_text=True)
    response = close("fixed", b"<?php echo 1; ?>")
    assert response.status_code == 422
    assert "Bitte laden Sie ein Foto im Format" in response.get_data(as_text=True)
    public = client.get(f"/maengel/{report_id}").get_data(as_text=True)
    assert '<span class="status status--open">offen</span>' in public  # nothing was saved
    assert "Foto danach" not in public


def test_after_photo_of_an_unconfirmed_report_stays_private(
    app,
    client,
    auth,
    form_post,
    make_report,
    staff,  # noqa: F811
):
    from mangel.workbench.models import AfterPhoto

    rid = make_report(department_id=staff["tiefbau"], confirmed_at=None)
    auth.login("a@town.example")
    url = f"{BASE}/{rid}"
    data = {"status": "fixed", "after_photo": (io.BytesIO(photo()), "x.jpg")}
    form_post(f"{url}/status", data, page=url, content_type="multipart/form-data")
    with app.app_context():
        name = db.session.scalars(select(AfterPhoto.file_name)).one()
    assert fetch(client, f"/maengel/fotos/nachher/{name}")[0] == 200  # staff
    auth.logout()
    assert fetch(client, f"/maengel/fotos/nachher/{name}")[0] == 404
