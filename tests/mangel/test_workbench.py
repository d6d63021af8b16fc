"""The staff workbench through the web: who sees what, and what each action shows the public."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from lotse.extensions import db
from mangel.photos import photo_path
from mangel.signals import report_rerouted, report_status_changed
from tests.mangel.conftest import OUTSIDE, photo

pytestmark = pytest.mark.both_dbs

BASE = "/verwaltung/maengel/meldungen"


@pytest.fixture
def staff(app, categories, make_user, make_department):
    """A Tiefbau clerk (owner of the test categories), a Grünflächen clerk, an admin."""
    from mangel.models import Category

    with app.app_context():
        tiefbau = db.session.get(Category, categories["pothole"]).department_id
    green = make_department("Grünflächen")
    make_user("a@town.example", departments=(tiefbau,), name="Anna Tiefbau")
    make_user("b@town.example", departments=(green.id,), name="Bernd Grün")
    make_user("admin@town.example", roles=("admin",), name="Ada Admin")
    return {"tiefbau": tiefbau, "green": green.id}


@pytest.fixture
def report_id(make_report, staff):
    return make_report(
        description="Tiefes Loch vor der Schule",
        street="Schulstraße",
        department_id=staff["tiefbau"],
    )


def fetch(client, url):
    """GET a file and close the response (send_file keeps it open otherwise)."""
    with client.get(url) as response:
        return response.status_code, response.data


def audit_actions(app, rid):
    from mangel.workbench.models import AuditEntry

    with app.app_context():
        return [
            e.action
            for e in db.session.scalars(
                select(AuditEntry).where(AuditEntry.report_id == rid).order_by(AuditEntry.id)
            )
        ]


def test_clerk_of_other_department_sees_nothing_of_the_report(client, auth, form_post, report_id):
    auth.login("b@town.example")
    assert client.get(f"{BASE}/{report_id}").status_code == 404
    listing = client.get(f"{BASE}/?status=alle").get_data(as_text=True)
    assert f"{BASE}/{report_id}" not in listing
    search = client.get(f"{BASE}/?q=Schule").get_data(as_text=True)
    assert "Keine Meldungen gefunden" in search
    token_page = f"{BASE}/"
    response = form_post(f"{BASE}/{report_id}/notiz", {"text": "x"}, page=token_page)
    assert response.status_code == 404


def test_own_clerk_finds_the_report_by_list_and_search(client, auth, report_id, make_report):
    make_report(description="Anderes", department_id=None)
    auth.login("a@town.example")
    html = client.get(f"{BASE}/?q=schule").get_data(as_text=True)
    assert f"{BASE}/{report_id}" in html and "1 Meldungen" in html
    page = client.get(f"{BASE}/{report_id}").get_data(as_text=True)
    assert "erika.mustermann@example.org" in page  # contact data, only here
    assert "erika.mustermann" not in client.get(f"/maengel/{report_id}").get_data(as_text=True)


def test_admin_sees_all(client, auth, report_id, make_report):
    other = make_report(department_id=None)
    auth.login("admin@town.example")
    html = client.get(f"{BASE}/").get_data(as_text=True)
    assert f"{BASE}/{report_id}" in html and f"{BASE}/{other}" in html


def test_filters_photo_overdue_and_age(app, client, auth, report_id, make_report, staff):
    late = make_report(due_date=date.today() - timedelta(days=1), department_id=staff["tiefbau"])
    auth.login("a@town.example")
    html = client.get(f"{BASE}/?overdue=1").get_data(as_text=True)
    assert f"{BASE}/{late}?" in html and f"{BASE}/{report_id}?" not in html
    assert "Keine Meldungen" in client.get(f"{BASE}/?photo=1").get_data(as_text=True)
    assert "Keine Meldungen" in client.get(f"{BASE}/?age=3").get_data(as_text=True)


def test_required_public_note_has_a_german_message(client, auth, form_post, report_id):
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    response = form_post(
        f"{url}/status", {"status": "not_responsible", "public_note": ""}, page=url
    )
    assert response.status_code == 422
    assert "Bitte begründen Sie den Status „nicht zuständig“" in response.get_data(as_text=True)
    assert "offen" in client.get(f"/maengel/{report_id}").get_data(as_text=True)


def test_status_change_reaches_the_public_page_and_the_signal(
    app, client, auth, form_post, report_id
):
    heard = []

    def listener(report, change):
        heard.append((report.id, change.status, change.public_note))

    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    with report_status_changed.connected_to(listener):
        form_post(
            f"{url}/status", {"status": "unsolvable", "public_note": "Privatgrund."}, page=url
        )
    assert heard == [(report_id, "unsolvable", "Privatgrund.")]
    public = client.get(f"/maengel/{report_id}").get_data(as_text=True)
    assert "nicht lösbar" in public and "Privatgrund." in public
    assert audit_actions(app, report_id) == ["status"]
    assert "Status geändert" in client.get(url).get_data(as_text=True)


def test_internal_note_stays_internal(app, client, auth, form_post, report_id):
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    form_post(f"{url}/notiz", {"text": "Bauhof fragen"}, page=url)
    assert "Bauhof fragen" in client.get(url).get_data(as_text=True)
    assert "Bauhof fragen" not in client.get(f"/maengel/{report_id}").get_data(as_text=True)
    assert audit_actions(app, report_id) == ["note"]


def test_accept_plan_and_forward(app, client, auth, form_post, report_id, staff):
    heard = []

    def listener(report, reason, staff_user, department):
        heard.append((department.id, reason, staff_user.email))

    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    form_post(f"{url}/annehmen", page=url)
    assert "Anna Tiefbau" in client.get(url).get_data(as_text=True)
    form_post(f"{url}/planung", {"priority": "2", "due_date": "2030-01-31"}, page=url)
    with report_rerouted.connected_to(listener):
        form_post(f"{url}/weiterleiten", {"department_id": str(staff["green"])}, page=url)
    assert heard == [(staff["green"], "forward", "a@town.example")]
    assert audit_actions(app, report_id) == ["accept", "plan", "forward"]
    assert client.get(url).status_code == 404  # now Grünflächen's report
    auth.logout()
    auth.login("b@town.example")
    page = client.get(url).get_data(as_text=True)
    assert "Tiefbau → Grünflächen" in page and "dringend" in page


def test_recategorise_and_mark_duplicate(
    app, client, auth, form_post, report_id, make_report, categories, staff
):
    original = make_report(category_id=categories["light"], department_id=staff["tiefbau"])
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    with report_rerouted.connected_to(lambda *a, **k: None):
        form_post(f"{url}/kategorie", {"category_id": str(categories["light"])}, page=url)
    assert f"/duplikat/{original}" in client.get(url).get_data(as_text=True)
    form_post(f"{url}/duplikat/{original}", page=url)
    public = client.get(f"/maengel/{report_id}").get_data(as_text=True)
    assert "Duplikat" in public and f"Duplikat von Meldung {original}" in public
    # Same department (Tiefbau): a correction in the history, not a hand-over.
    assert audit_actions(app, report_id) == ["recategorise_corrected", "duplicate", "status"]


def test_release_edit_and_hide(app, client, auth, form_post, report_id):
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    assert "Tiefes Loch vor der Schule" not in client.get(f"/maengel/{report_id}").get_data(
        as_text=True
    )
    form_post(
        f"{url}/freigabe",
        {"description": "Loch vor der Schule", "description_released": "y"},
        page=url,
    )
    public = client.get(f"/maengel/{report_id}").get_data(as_text=True)
    assert "Loch vor der Schule" in public and "Tiefes Loch" not in public
    staff_page = client.get(url).get_data(as_text=True)
    assert "Tiefes Loch vor der Schule" in staff_page  # original kept in the audit log
    form_post(
        f"{url}/freigabe",
        {"description": "Loch vor der Schule", "description_released": "y", "hidden": "y"},
        page=url,
    )
    assert client.get(f"/maengel/{report_id}").status_code == 404
    assert f'/maengel/{report_id}"' not in client.get("/maengel/").get_data(as_text=True)
    assert audit_actions(app, report_id) == ["edit_text", "description_released", "hidden"]


def add_photo(app, report_id) -> tuple[int, str]:
    """Store a test photo for a report; returns its id and file name."""
    from mangel import services
    from mangel.models import ReportPhoto
    from mangel.photos import process_photo, save_photo

    with app.test_request_context():
        processed = process_photo(io.BytesIO(photo()), max_bytes=10**7, max_pixels=10**8)
        name, thumb = save_photo(processed, services.upload_dir())
        row = ReportPhoto(
            report_id=report_id,
            file_name=name,
            thumb_name=thumb,
            width=processed.width,
            height=processed.height,
        )
        db.session.add(row)
        db.session.commit()
        return row.id, name


def test_each_photo_can_be_held_back(app, client, auth, form_post, report_id):
    kept_id, kept = add_photo(app, report_id)
    _shown_id, shown = add_photo(app, report_id)
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    data = {"description": "Tiefes Loch vor der Schule", "photos_released": "y"}
    form_post(f"{url}/freigabe", data, page=url)
    form_post(f"{url}/fotos/{kept_id}/zurueckhalten", page=url)
    auth.logout()
    public = client.get(f"/maengel/{report_id}").get_data(as_text=True)
    assert shown in public and kept not in public
    assert fetch(client, f"/maengel/fotos/{kept}")[0] == 404
    assert fetch(client, f"/maengel/fotos/{shown}")[0] == 200
    assert audit_actions(app, report_id) == ["photos_released", "photo_held"]


def test_redacted_photo_is_black_and_the_original_gone(app, client, auth, form_post, report_id):
    from mangel import services
    from mangel.models import ReportPhoto

    photo_id, name = add_photo(app, report_id)
    with app.app_context():
        thumb = db.session.get(ReportPhoto, photo_id).thumb_name
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    assert fetch(client, f"/maengel/fotos/{name}")[0] == 200  # staff see it unreleased
    form_post(
        f"{url}/fotos/{photo_id}/schwaerzen",
        {"x": "300", "y": "200", "w": "100", "h": "80"},
        page=url,
    )
    assert fetch(client, f"/maengel/fotos/{name}")[0] == 404
    assert fetch(client, f"/maengel/fotos/{thumb}")[0] == 404
    with app.app_context():
        new_name = db.session.scalar(select(ReportPhoto.file_name))
        stored = photo_path(services.upload_dir(), new_name)
        assert not photo_path(services.upload_dir(), name).exists()
        assert not photo_path(services.upload_dir(), thumb).exists()
    with Image.open(stored) as raw:  # the stored file itself
        image = raw.convert("RGB")
    assert max(image.getpixel((350, 240))) < 30  # blacked out
    assert image.getpixel((500, 400))[2] > 150  # the rest still blue
    assert audit_actions(app, report_id) == ["redact"]


def test_bulk_status_with_one_note_and_release(
    app, client, auth, form_post, report_id, make_report, staff
):
    second = make_report(department_id=staff["tiefbau"])
    auth.login("a@town.example")
    data = {
        "ids": [str(report_id), str(second)],
        "status": "fixed",
        "public_note": "Repariert.",
        "department_id": "0",
        "release": "y",
    }
    form_post(f"{BASE}/sammelaktion", data, page=f"{BASE}/")
    for rid in (report_id, second):
        public = client.get(f"/maengel/{rid}").get_data(as_text=True)
        assert "erledigt" in public and "Repariert." in public and "Tiefes Loch" in public
        assert audit_actions(app, rid) == ["status", "description_released"]


def test_bulk_refuses_a_selection_with_another_departments_report(
    app, auth, form_post, report_id, make_report, staff
):
    foreign = make_report(department_id=staff["green"])
    auth.login("a@town.example")
    data = {"ids": [str(report_id), str(foreign)], "status": "fixed", "department_id": "0"}
    assert form_post(f"{BASE}/sammelaktion", data, page=f"{BASE}/").status_code == 404
    assert audit_actions(app, report_id) == []


def test_bulk_status_needs_the_note_too(app, auth, form_post, report_id):
    auth.login("a@town.example")
    data = {"ids": [str(report_id)], "status": "duplicate", "department_id": "0"}
    response = form_post(f"{BASE}/sammelaktion", data, page=f"{BASE}/", follow_redirects=True)
    assert "Bitte begründen Sie den Status „Duplikat“" in response.get_data(as_text=True)
    assert audit_actions(app, report_id) == []


def test_csv_export_has_no_contact_data_unless_an_admin_asks(
    client, auth, report_id, make_report, staff
):
    make_report(department_id=staff["green"], description="Fremde Meldung")
    auth.login("a@town.example")
    body = client.get(f"{BASE}/export.csv?status=alle").get_data(as_text=True)
    assert "Tiefes Loch vor der Schule" in body and "Fremde Meldung" not in body
    assert "@" not in body
    assert client.get(f"{BASE}/export.csv?personal=1").status_code == 403
    auth.logout()
    auth.login("admin@town.example")
    assert "@" not in client.get(f"{BASE}/export.csv").get_data(as_text=True)
    body = client.get(f"{BASE}/export.csv?personal=1").get_data(as_text=True)
    assert "erika.mustermann@example.org" in body and "Fremde Meldung" in body


def test_statistics_per_department(client, auth, form_post, report_id, make_report, staff):
    make_report(department_id=staff["green"])
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    form_post(f"{url}/status", {"status": "fixed", "public_note": ""}, page=url)
    html = client.get("/verwaltung/maengel/statistik").get_data(as_text=True)
    assert "Tiefbau" in html and "Grünflächen" not in html
    row = html[html.index('<th scope="row">Tiefbau') :].split("</tr>")[0]
    assert [cell.split("</td>")[0] for cell in row.split("<td>")[1:4]] == ["1", "0", "1"]


def test_response_template_is_inserted_into_the_public_note(
    client, auth, form_post, report_id, categories
):
    auth.login("admin@town.example")
    form_post(
        "/verwaltung/maengel/textbausteine",
        {
            "title": "Privat",
            "text": "Das Grundstück ist privat.",
            "category_id": str(categories["pothole"]),
            "status": "not_responsible",
        },
    )
    html = client.get(f"{BASE}/{report_id}").get_data(as_text=True)
    assert 'data-text="Das Grundstück ist privat."' in html
    template_id = html.split('data-text="Das Grundstück ist privat."')[0].rsplit('value="', 1)[1]
    template_id = template_id.split('"')[0]
    filled = client.get(f"{BASE}/{report_id}?baustein={template_id}").get_data(as_text=True)
    assert "Das Grundstück ist privat.</textarea>" in filled
    assert re.search(r'<option (selected )?value="not_responsible"( selected)?>', filled)


def test_inbox_map_shows_the_same_selection(client, auth, report_id, make_report, staff):
    foreign = make_report(department_id=staff["green"])
    auth.login("a@town.example")
    html = client.get(f"{BASE}/karte?q=schule").get_data(as_text=True)
    assert f"{BASE}/{report_id}" in html and f"{BASE}/{foreign}" not in html
    assert "data-map-points" in html


def test_move_inside_the_town_asks_routing_again(app, client, auth, form_post, report_id):
    heard = []
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    outside = form_post(f"{url}/ort", {"lat": str(OUTSIDE[0]), "lon": str(OUTSIDE[1])}, page=url)
    assert "außerhalb des Gemeindegebiets" in outside.get_data(as_text=True)
    with report_rerouted.connected_to(lambda report, **kw: heard.append(kw["reason"])):
        form_post(f"{url}/ort", {"lat": "50.7475", "lon": "6.4915"}, page=url)
    assert heard == ["move"]
    assert "50.74750" in client.get(f"/maengel/{report_id}").get_data(as_text=True)
    assert audit_actions(app, report_id) == ["move_corrected"]  # Tiefbau's still


def test_reporter_hears_of_status_and_forwarding_never_of_internal_notes(
    app, client, auth, form_post, mailbox, report_id, staff
):
    auth.login("a@town.example")
    url = f"{BASE}/{report_id}"
    reporter = "erika.mustermann@example.org"
    form_post(f"{url}/notiz", {"text": "Geheim: Bauhof fragen"}, page=url)
    assert mailbox.messages(to=reporter) == []
    form_post(
        f"{url}/status", {"status": "waiting", "public_note": "Die Stadtwerke sind dran."}, page=url
    )
    mail = mailbox.latest(to=reporter)
    text = mailbox.text(mail)
    assert mail["Subject"] == f"Neuer Stand Ihrer Meldung Nr. {report_id}"
    assert "wartet auf Dritte" in text and "Die Stadtwerke sind dran." in text
    public = client.get(f"/maengel/{report_id}").get_data(as_text=True)
    assert "wartet auf Dritte" in public and "Die Stadtwerke sind dran." in public
    assert "Bauhof fragen" not in public
    inbox = client.get(f"{BASE}/").get_data(as_text=True)  # waiting counts as open
    assert f'{BASE}/{report_id}"' in inbox
    form_post(f"{url}/weiterleiten", {"department_id": str(staff["green"])}, page=url)
    forwarded = mailbox.latest(to=reporter)
    assert "weitergeleitet" in forwarded["Subject"]
    assert all("Bauhof" not in mailbox.text(m) for m in mailbox.messages())
    assert audit_actions(app, report_id) == ["note", "status", "forward"]


def test_department_filter_in_the_url_shows_no_foreign_reports(client, auth, make_report, staff):
    foreign = make_report(department_id=staff["green"], description="Fremd")
    auth.login("a@town.example")
    for view in ("", "karte", "export.csv"):
        body = client.get(f"{BASE}/{view}?department={staff['green']}&status=alle").text
        assert f"{BASE}/{foreign}" not in body and "Fremd" not in body, view
