"""Alerts: a citizen subscribes for a place, confirms, is told about reports there, unsubscribes.

Every event is driven through the pages a citizen uses (subscribe form, confirmation button,
report form and its confirmation link, the clerk's status form); the assertions are the mails
that arrive, at which address, with which subject and link.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lotse.extensions import db
from mangel.alerts.models import AlertEvent, AlertSubscription
from mangel.models import Address
from tests.mangel.conftest import INSIDE, link_in, sent_mails

pytestmark = pytest.mark.both_dbs

FAR = (50.7560, 6.4935)  # about 800 m north of INSIDE, still in Musterstadt
SUBSCRIBER = "anna.nachbar@example.org"


@pytest.fixture
def addresses(app):
    with app.app_context():
        rows = [
            ("Bahnhofstraße", "12", *INSIDE),
            ("Bahnhofstraße", "14", INSIDE[0] + 0.0002, INSIDE[1]),
            ("Lindenweg", "3", *FAR),
        ]
        for street, number, lat, lon in rows:
            from mangel.places import search_key

            db.session.add(
                Address(
                    street=street,
                    house_number=number,
                    postcode="52372",
                    city="Musterstadt",
                    search_key=search_key(f"{street} {number}"),
                    lat=lat,
                    lon=lon,
                )
            )
        db.session.commit()


def subscribe(form_post, **fields):
    data = {
        "email": SUBSCRIBER,
        "kind": "radius",
        "address": "Bahnhofstraße 12",
        "radius": "250",
        "street": "",
        "area": "",
        "on_new": "y",
        "frequency": "immediate",
        "website": "",
    }
    data.update(fields)
    return form_post(
        "/maengel/benachrichtigungen", {k: v for k, v in data.items() if v is not None}
    )


def confirm_subscription(app, client, form_post) -> None:
    mail = [m for m in sent_mails(app) if SUBSCRIBER in str(m["To"])][-1]
    assert mail["Subject"] == "Bitte bestätigen Sie Ihre Benachrichtigung"
    path = link_in(mail, "/benachrichtigungen/")
    assert "Benachrichtigung bestätigen" in client.get(path).get_data(as_text=True)
    page = form_post(path, {}, page=path)
    assert "Ihre Benachrichtigung ist aktiv" in page.get_data(as_text=True)


def report_at(app, client, form_post, submit, report_data, point, **changes) -> None:
    """A citizen reports at ``point`` and confirms it from the mail."""
    assert submit(report_data(lat=str(point[0]), lon=str(point[1]), **changes)).status_code == 302
    path = link_in(sent_mails(app)[-1], "/bestaetigen/meldung/")
    form_post(path, {}, page=path)


def alerts_to(app, address=SUBSCRIBER) -> list:
    return [
        m
        for m in sent_mails(app)
        if address in str(m["To"]) and "bestätigen" not in str(m["Subject"])
    ]


def test_subscribe_confirm_and_hear_about_a_report_nearby_only(
    app, client, form_post, submit, report_data, addresses
):
    assert subscribe(form_post).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(AlertSubscription.confirmed)) is False
    # Before confirming, a report nearby tells nobody.
    report_at(app, client, form_post, submit, report_data, INSIDE)
    assert alerts_to(app) == []
    confirm_subscription(app, client, form_post)

    report_at(app, client, form_post, submit, report_data, INSIDE)
    report_at(app, client, form_post, submit, report_data, FAR)  # outside the 250 m
    mails = alerts_to(app)
    assert [m["Subject"] for m in mails] == ["Neue Meldung: Straßenbeleuchtung defekt"]
    text = mails[0].get_body(("plain",)).get_content()
    assert "250 m um Bahnhofstraße 12" in text
    assert "http://localhost/maengel/2" in text
    assert "erika.mustermann" not in mails[0].as_string().lower()  # no reporter data
    assert mails[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_one_click_unsubscribe_deletes_the_subscription(
    app, client, form_post, submit, report_data, addresses
):
    subscribe(form_post)
    confirm_subscription(app, client, form_post)
    report_at(app, client, form_post, submit, report_data, INSIDE)
    mail = alerts_to(app)[-1]
    url = re.match(r"<http://localhost(\S+)>", mail["List-Unsubscribe"]).group(1)
    # RFC 8058: the mail program posts without a session or CSRF token.
    fresh = app.test_client()
    response = fresh.post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "keine Benachrichtigungen mehr" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AlertSubscription)) == 0
    report_at(app, client, form_post, submit, report_data, INSIDE)
    assert len(alerts_to(app)) == 1
    # A forged key deletes nothing and says so.
    assert fresh.post(url[:-4] + "0000").status_code == 200


@pytest.mark.parametrize(
    ("fields", "point", "told"),
    [
        ({"kind": "street", "street": "bahnhofstr.", "address": ""}, INSIDE, True),
        ({"kind": "street", "street": "Lindenweg", "address": ""}, INSIDE, False),
        ({"radius": "1000"}, FAR, True),
        ({"categories": "pothole"}, INSIDE, False),
        ({"categories": "light"}, INSIDE, True),
    ],
)
def test_selection_by_street_radius_and_category(
    app, client, form_post, submit, report_data, addresses, categories, fields, point, told
):
    if "categories" in fields:
        fields = {**fields, "categories": str(categories[fields["categories"]])}
    assert subscribe(form_post, **fields).status_code == 302
    confirm_subscription(app, client, form_post)
    report_at(app, client, form_post, submit, report_data, point)
    assert len(alerts_to(app)) == (1 if told else 0)


def test_status_changes_reach_subscribers_who_asked(
    app, client, form_post, submit, report_data, addresses, auth, make_user
):
    subscribe(form_post, on_new=None, on_status="y")
    confirm_subscription(app, client, form_post)
    report_at(app, client, form_post, submit, report_data, INSIDE)
    assert alerts_to(app) == []  # new reports were not asked for
    from lotse.models import Department

    with app.app_context():
        department_id = db.session.scalar(select(Department.id).where(Department.name == "Tiefbau"))
    make_user(departments=(department_id,))
    auth.login()
    page = "/verwaltung/maengel/meldungen/1"
    form_post(f"{page}/status", {"status": "in_progress", "public_note": "Beauftragt."}, page=page)
    subjects = [m["Subject"] for m in alerts_to(app)]
    assert subjects == ["Meldung Nr. 1: in Bearbeitung"], subjects


def test_daily_digest_is_one_mail_per_address_and_day(
    make_app, form_post, submit, report_data, addresses
):
    app = make_app(MANGEL_ALERT_DIGEST_HOUR=0)
    client = app.test_client()
    from mangel.alerts.services import send_digests

    # Two daily subscriptions of the same person.
    subscribe(form_post, frequency="daily")
    confirm_subscription(app, client, form_post)
    subscribe(form_post, frequency="daily", kind="street", street="Lindenweg", address="")
    confirm_subscription(app, client, form_post)
    report_at(app, client, form_post, submit, report_data, INSIDE)
    report_at(app, client, form_post, submit, report_data, FAR)
    assert alerts_to(app) == []  # nothing at once
    with app.app_context():
        assert send_digests() == 1
        assert send_digests() == 0
        assert db.session.scalar(select(func.count()).select_from(AlertEvent)) == 0
    mails = alerts_to(app)
    assert [m["Subject"] for m in mails] == ["Ihre tägliche Übersicht: 2 Meldungen"]
    text = mails[0].get_body(("plain",)).get_content()
    assert "250 m um Bahnhofstraße 12" in text and "Lindenweg" in text
    # Another report the same day waits for tomorrow's digest.
    report_at(app, client, form_post, submit, report_data, INSIDE)
    with app.app_context():
        assert send_digests() == 0
        assert db.session.scalar(select(func.count()).select_from(AlertEvent)) == 1


def test_bad_input_keeps_everything_and_stores_nothing(app, client, form_post, addresses):
    response = subscribe(form_post, address="Gibtsnichtweg 99")
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Diese Adresse kennen wir nicht" in body
    assert SUBSCRIBER in body  # the typed address stays
    response = subscribe(form_post, kind="street", street="Lindenwg", address="")
    assert "Diese Straße kennen wir nicht" in response.get_data(as_text=True)
    response = subscribe(form_post, email="kein-at-zeichen")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AlertSubscription)) == 0
    assert sent_mails(app) == []


def test_feed_for_the_same_selection(app, client, form_post, submit, report_data, addresses):
    report_at(app, client, form_post, submit, report_data, INSIDE)
    report_at(app, client, form_post, submit, report_data, FAR)
    near = client.get(
        f"/maengel/benachrichtigungen/feed.atom?lat={INSIDE[0]}&lon={INSIDE[1]}&radius=250"
    )
    assert near.status_code == 200
    body = near.get_data(as_text=True)
    assert body.count("<entry>") == 1 and "/maengel/1<" in body
    street = client.get("/maengel/benachrichtigungen/feed.atom?street=Lindenweg")
    assert street.get_data(as_text=True).count("<entry>") == 1
    assert client.get("/maengel/benachrichtigungen/feed.atom?radius=7").status_code == 400


def test_selection_by_area(app, client, form_post, submit, report_data, addresses):
    from shapely.geometry import box

    from mangel.routing.areas import store_area

    with app.app_context():
        store_area(
            "Ortsteil Mitte",
            box(INSIDE[1] - 0.002, INSIDE[0] - 0.002, INSIDE[1] + 0.002, INSIDE[0] + 0.002),
        )
        db.session.commit()
    page = client.get("/maengel/benachrichtigungen").get_data(as_text=True)
    assert "Ortsteil Mitte" in page
    value = re.search(r'<option value="(\d+)">Ortsteil Mitte</option>', page).group(1)
    assert subscribe(form_post, kind="area", area=value, address="").status_code == 302
    confirm_subscription(app, client, form_post)
    report_at(app, client, form_post, submit, report_data, INSIDE)
    report_at(app, client, form_post, submit, report_data, FAR)
    mails = alerts_to(app)
    assert len(mails) == 1 and "Ortsteil Mitte" in mails[0].get_body(("plain",)).get_content()
