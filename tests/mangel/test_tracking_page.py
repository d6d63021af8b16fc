"""The reporter's tracking page (issue 22): own photos, "Ergänzen", "Zurückziehen", and who
is told what (docs/notifications.md, rows "Ergänzung", "zurückgezogen", "Mail erneut senden")."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lotse.extensions import db
from tests.mailbox import Mailbox
from tests.mangel.conftest import REPORTER, photo, sent_mails, upload

pytestmark = pytest.mark.both_dbs

TIEFBAU = "tiefbau@town.example"  # the department of the test categories
CLERK = "chris@town.example"
FALLBACK = "eingang@town.example"


@pytest.fixture
def app(make_app):
    return make_app(MANGEL_FALLBACK_EMAIL=FALLBACK)


@pytest.fixture
def reported(app, client, form_post, submit, report_data):
    """A confirmed report with one photo; returns the tracking page's path."""
    assert submit(report_data(photos=[upload(photo())])).status_code == 302
    [mail] = sent_mails(app)
    link = re.search(
        r"http://localhost(/maengel/bestaetigen/meldung/\S+)",
        mail.get_body(("plain",)).get_content(),
    ).group(1)
    return form_post(link, {}).headers["Location"]


def report(app):
    from mangel.models import Report

    with app.app_context():
        row = db.session.scalars(select(Report)).one()
        row.photos  # noqa: B018 - loaded before the session closes
        db.session.expunge(row)
        return row


def mails_after(app, count: int) -> list:
    return sent_mails(app)[count:]


def test_tracking_page_shows_the_reporters_own_photos_before_release(app, client, reported):
    page = client.get(reported).get_data(as_text=True)
    assert "Ihre Fotos" in page and "noch nicht öffentlich" in page
    thumb = re.search(r'src="(/maengel/verfolgen/[^"]+/fotos/[0-9a-f]+_t\.jpg)"', page).group(1)
    response = client.get(thumb)
    response.close()
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    name = thumb.rsplit("/", 1)[1]
    assert client.get(f"/maengel/fotos/{name}").status_code == 404  # not public yet
    assert client.get("/maengel/verfolgen/falsch/fotos/" + name).status_code == 404


def test_heading_breaks_a_slashed_category_name_at_the_slash(app, client, make_report):
    from mangel.models import Category

    with app.app_context():
        category = db.session.scalars(select(Category).where(Category.name == "Schlagloch")).one()
        category.name = "Straßenschaden/Schlagloch"
        db.session.commit()
    page = client.get(f"/maengel/{make_report()}").get_data(as_text=True)
    assert "Straßenschaden/<wbr>Schlagloch</h1>" in page


@pytest.mark.parametrize(
    "responsible", ["accepted clerk", "department", "fallback inbox"], ids=lambda r: r
)
def test_ergaenzen_goes_to_the_responsible_clerk_and_into_the_history(
    app, client, form_post, reported, make_user, auth, responsible
):
    from lotse.models import Department
    from mangel.models import Report

    expected = {"accepted clerk": CLERK, "department": TIEFBAU, "fallback inbox": FALLBACK}
    with app.app_context():
        row = db.session.scalars(select(Report)).one()
        if responsible == "accepted clerk":
            from lotse.models import User

            make_user(CLERK, departments=(row.department_id,))
            row.accepted_by = db.session.scalars(select(User).where(User.email == CLERK)).one()
        elif responsible == "fallback inbox":
            db.session.get(Department, row.department_id).email = ""
        db.session.commit()
    before = len(sent_mails(app))
    response = form_post(
        reported + "/ergaenzen",
        {
            "text": "Inzwischen ist auch der Gehweg abgesackt.",
            "photos": [upload(photo())],
            "website": "",
        },
        page=reported,
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    [mail] = mails_after(app, before)
    assert mail["To"] == expected[responsible]
    number = report(app).id
    assert str(mail["Subject"]) == f"Meldung Nr. {number}: Ergänzung der meldenden Person"
    text = Mailbox.text(mail)
    assert "Inzwischen ist auch der Gehweg abgesackt." in text
    assert "Dazu hat sie 1 Foto hochgeladen." in text
    assert f"/verwaltung/maengel/meldungen/{number}" in text
    assert REPORTER["email"] not in mail["To"]

    page = client.get(reported).get_data(as_text=True)
    assert "Ihre Ergänzung" in page and "Inzwischen ist auch der Gehweg abgesackt." in page
    assert len(report(app).photos) == 2
    from mangel.workbench.models import AuditEntry

    with app.app_context():
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "citizen_addition")
        ).all()
        assert entry.staff_user_id is None and entry.label == "Ergänzung der meldenden Person"
    if responsible == "accepted clerk":
        # The clerk sees it in the report's history at the workbench.
        auth.login(CLERK)
        staff_page = client.get(f"/verwaltung/maengel/meldungen/{number}").get_data(as_text=True)
        assert "Ergänzung der meldenden Person" in staff_page
        assert "Inzwischen ist auch der Gehweg abgesackt." in staff_page


def test_ergaenzen_after_release_holds_the_new_photo_back(app, client, form_post, reported):
    from mangel.models import Report

    with app.app_context():
        db.session.scalars(select(Report)).one().photos_released = True
        db.session.commit()
    form_post(
        reported + "/ergaenzen",
        {"text": "", "photos": [upload(photo())]},
        page=reported,
        content_type="multipart/form-data",
    )
    first, added = report(app).photos
    assert not first.held and added.held


def test_ergaenzen_needs_text_or_a_photo(app, client, form_post, reported):
    before = len(sent_mails(app))
    response = form_post(reported + "/ergaenzen", {"text": "  "}, page=reported)
    assert response.status_code == 422
    assert "Bitte schreiben Sie etwas oder wählen Sie ein Foto aus." in response.get_data(
        as_text=True
    )
    response = form_post(
        reported + "/ergaenzen",
        {"text": "x", "photos": [upload(b"kein Bild")]},
        page=reported,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert 'id="photos-error"' in response.get_data(as_text=True)
    assert mails_after(app, before) == []


def test_zurueckziehen_asks_first_then_hides_the_report_and_tells_the_clerk(
    app, client, form_post, reported
):
    number = report(app).id
    assert client.get(f"/maengel/{number}").status_code == 200
    page = client.get(reported).get_data(as_text=True)
    assert "Zurückziehen …" in page
    confirm = client.get(reported + "/zurueckziehen")
    assert f"Meldung Nr. {number} zurückziehen?" in confirm.get_data(as_text=True)
    assert report(app).withdrawn_at is None  # opening the page changes nothing
    before = len(sent_mails(app))
    response = form_post(
        reported + "/zurueckziehen", {"reason": "Hat sich erledigt"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "Ihre Meldung ist zurückgezogen und nicht mehr öffentlich" in page
    assert "Sie haben diese Meldung am" in page
    assert "Ergänzung senden" not in page

    [mail] = mails_after(app, before)
    assert mail["To"] == TIEFBAU
    assert str(mail["Subject"]) == f"Meldung Nr. {number} wurde zurückgezogen"
    assert "Begründung: Hat sich erledigt" in Mailbox.text(mail)

    # The public: gone from map, list and feed; its page says why.
    public = client.get(f"/maengel/{number}")
    assert public.status_code == 410
    assert "wurde zurückgezogen" in public.get_data(as_text=True)
    assert f'/maengel/{number}"' not in client.get("/maengel/").get_data(as_text=True)
    bbox = "6.48,50.74,6.50,50.76"
    assert client.get(f"/maengel/karte.json?bbox={bbox}").get_json()["features"] == []

    # Twice is nothing new: no second mail.
    form_post(reported + "/zurueckziehen", {"reason": ""}, page=reported)
    assert len(mails_after(app, before)) == 1


def test_tracking_actions_need_the_right_link_and_a_token(app, client, reported):
    assert client.get("/maengel/verfolgen/falsch/zurueckziehen").status_code == 404
    response = client.post(reported + "/ergaenzen", data={"text": "ohne Token"})
    assert response.status_code == 400
