"""The booking API (/api/v1/): what a town's website and a partner system get from it.

Reading: halls with parts and opening hours in words, free and busy times per part, the
public plan without personal data; JSON with ETag/304, Cache-Control and CORS; machine-
readable errors.  Writing: a key made on the staff page (shown once, stored hashed),
scoped to halls; requests checked like the web form, the same mails as for web requests.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from buchung.api.models import PartnerKey
from buchung.club_models import Club
from buchung.models import Closure, Resource
from lotse.extensions import db
from tests.apikeys import store_key_as_before
from tests.buchung.conftest import local, next_weekday
from tests.mailbox import Mailbox

pytestmark = pytest.mark.both_dbs

DAY = next_weekday(1)  # a Tuesday at least a week ahead
OFFICE = "sport@town.example"
PARTNER = "buchung@schulverwaltung.example"
TEACHER = "lehrer@schule.example"


@pytest.fixture
def hall(app, make_hall):
    """A three-part hall open 16:00–22:00 Monday to Friday, 09:00–18:00 on Saturdays."""
    ids = make_hall(hours=("16:00", "22:00"))
    with app.app_context():
        resource = db.session.get(Resource, ids["hall"])
        for row in resource.opening_hours:
            if row.weekday == 5:
                row.opens_minute, row.closes_minute = 9 * 60, 18 * 60
        resource.opening_hours = [r for r in resource.opening_hours if r.weekday != 6]
        resource.address = "Grünstraße 1"
        db.session.commit()
    app.config["BUCHUNG_CLOSED_ON_HOLIDAYS"] = False
    return ids


def _berlin(day, text):
    """The API's stamp of a local time: ISO 8601 with the Berlin offset of that day."""
    hours, minutes = map(int, text.split(":"))
    return datetime.combine(day, time(hours, minutes), ZoneInfo("Europe/Berlin")).isoformat()


# --- reading --------------------------------------------------------------------------------


def test_resources_with_parts_and_opening_hours_in_words_cacheable_and_open_to_any_page(
    client, hall
):
    response = client.get("/api/v1/resources")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
    (found,) = response.json["resources"]
    assert found["name"] == "Dreifachhalle"
    assert [p["name"] for p in found["parts"]] == ["Drittel A", "Drittel B", "Drittel C"]
    assert found["opening_hours_text"] == "Mo.–Fr. 16:00–22:00; Sa. 09:00–18:00"
    assert found["links"]["availability"].endswith(f"/api/v1/resources/{hall['hall']}/availability")

    again = client.get("/api/v1/resources", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""

    preflight = client.options("/api/v1/resources")
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]


def test_unknown_ids_and_bad_ranges_answer_machine_readable_errors(client, hall):
    for url, status, code in [
        ("/api/v1/resources/999999", 404, "resource_not_found"),
        (f"/api/v1/resources/{hall['A']}", 404, "resource_not_found"),  # a part: ask the hall
        ("/api/v1/nirgendwo", 404, "not_found"),
        (f"/api/v1/resources/{hall['hall']}/availability?from=gestern", 400, "invalid_date"),
        (
            f"/api/v1/resources/{hall['hall']}/availability?from=2027-01-01&to=2027-06-01",
            400,
            "range_too_long",
        ),
        (
            f"/api/v1/resources/{hall['hall']}/availability?from=2027-02-01&to=2027-01-01",
            400,
            "invalid_range",
        ),
        ("/api/v1/plan?from=9999-12-31", 400, "date_out_of_range"),
        ("/api/v1/plan?resource_id=x", 400, "invalid_resource_id"),
    ]:
        response = client.get(url)
        assert response.status_code == status, url
        assert response.json["error"]["code"] == code, url
        assert response.json["error"]["message"]
    response = client.put("/api/v1/resources")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"


def test_availability_free_and_busy_per_part_with_closures(app, client, hall, book, staff):
    book(hall["A"], DAY, "17:00", "19:00", staff_id=staff)  # Drittel A 17–19
    book(hall["hall"], DAY, "20:00", "21:00", staff_id=staff)  # the whole hall 20–21
    with app.app_context():
        db.session.add(
            Closure(
                resource_id=hall["hall"],
                title="Bodenpflege",
                starts_at=local(DAY + timedelta(days=1), "00:00"),
                ends_at=local(DAY + timedelta(days=2), "00:00"),
            )
        )
        db.session.commit()
    url = f"/api/v1/resources/{hall['hall']}/availability?from={DAY}&to={DAY + timedelta(days=1)}"
    response = client.get(url)
    assert response.status_code == 200, response.json
    units = {u["name"]: u for u in response.json["units"]}
    assert list(units) == ["Dreifachhalle", "Drittel A", "Drittel B", "Drittel C"]

    def spans(unit, key):
        return [(s["start"], s["end"]) for s in units[unit][key]]

    t = lambda text: _berlin(DAY, text)  # noqa: E731
    assert spans("Drittel A", "busy") == [(t("17:00"), t("19:00")), (t("20:00"), t("21:00"))]
    assert spans("Drittel A", "free") == [
        (t("16:00"), t("17:00")),
        (t("19:00"), t("20:00")),
        (t("21:00"), t("22:00")),
    ]
    assert spans("Drittel B", "free") == [(t("16:00"), t("20:00")), (t("21:00"), t("22:00"))]
    assert spans("Dreifachhalle", "free") == spans("Drittel A", "free")
    assert units["Dreifachhalle"]["whole"] is True
    closed = units["Drittel C"]["closed"]
    assert [c["reason"] for c in closed] == ["Bodenpflege"]
    assert not [
        s for s in units["Drittel C"]["free"] if s["start"].startswith(str(DAY + timedelta(days=1)))
    ]
    assert "Gabi" not in response.get_data(as_text=True)


def test_public_plan_names_nobody_and_clubs_only_with_consent(
    app, client, form_post, hall, book, make_club, club_login
):
    ids = make_club("TV Musterstadt")
    with app.app_context():
        club = db.session.get(Club, ids["club"])
        from buchung.services.booking import create_booking

        create_booking(
            db.session.get(Resource, hall["B"]),
            local(DAY, "18:00"),
            local(DAY, "20:00"),
            purpose="Jugendtraining",
            club=club,
        )
        db.session.commit()
    book(hall["A"], DAY, "16:00", "17:00", purpose="Geburtstag Gabi")
    url = f"/api/v1/plan?resource_id={hall['hall']}&from={DAY}&to={DAY}"
    response = client.get(url)
    text = response.get_data(as_text=True)
    assert [(e["resource_name"], e["label"], e["tentative"]) for e in response.json["entries"]] == [
        ("Drittel A", "belegt", True),  # the guest's hold, unconfirmed
        ("Drittel B", "belegt", False),
    ]
    for secret in ("Gabi", "gast@example.org", "0123", "Jugendtraining", "TV Musterstadt", "Tina"):
        assert secret not in text

    app.config["BUCHUNG_PUBLIC_CLUB_NAMES"] = True
    assert "TV Musterstadt" not in client.get(url).get_data(as_text=True)  # not agreed yet
    club_login()
    home = client.get("/buchung/verein/").get_data(as_text=True)
    assert "Unseren Vereinsnamen im öffentlichen Belegungsplan zeigen" in home
    response = form_post(
        "/buchung/verein/oeffentlich", {"name_public": "y"}, page="/buchung/verein/"
    )
    assert response.status_code == 302
    page = client.get("/buchung/verein/").get_data(as_text=True)
    assert "Der öffentliche Belegungsplan zeigt jetzt Ihren Vereinsnamen." in page
    labels = [e["label"] for e in client.get(url).json["entries"]]
    assert labels == ["belegt", "TV Musterstadt"]


# --- writing --------------------------------------------------------------------------------


@pytest.fixture
def staff(office) -> int:
    """The booking office's member (logged in)."""
    return office()


@pytest.fixture
def partner_key(app, client, form_post, auth, staff, hall):
    """A key made by the booking office on its page, for the three-part hall only."""
    auth.login(email="buero@town.example")
    page = client.get("/verwaltung/buchung/api-schluessel/")
    assert page.status_code == 200
    response = form_post(
        "/verwaltung/buchung/api-schluessel/",
        {"name": "Schulverwaltung", "contact_email": PARTNER, "resources": [hall["hall"]]},
    )
    text = response.get_data(as_text=True)
    assert "nur jetzt angezeigt" in text
    raw = text.split("<code>lotse_b_", 1)[1].split("</code>", 1)[0]
    raw = "lotse_b_" + raw
    assert raw not in client.get("/verwaltung/buchung/api-schluessel/").get_data(as_text=True)
    with app.app_context():
        stored = db.session.scalar(select(PartnerKey))
        assert stored.key_hash != raw and raw not in stored.key_hash
        assert stored.resource_ids == [hall["hall"]]
    form_post("/abmelden", page="/")
    return raw


def _post(client, key, **body):
    body.setdefault("purpose", "Schulsport")
    return client.post("/api/v1/bookings", json=body, headers={"Authorization": f"Bearer {key}"})


def test_partner_books_a_free_part_and_is_told_by_mail(app, client, hall, partner_key):
    box = Mailbox_for(app)
    response = _post(
        client,
        partner_key,
        resource_id=hall["A"],
        start=_berlin(DAY, "16:00"),
        end=_berlin(DAY, "17:30"),
        contact={"name": "Lena Lehrer", "email": TEACHER},
    )
    assert response.status_code == 201, response.json
    assert response.json["status"] == "confirmed"
    assert response.headers["Location"].endswith(f"/api/v1/bookings/{response.json['id']}")
    mail = box.latest(to=TEACHER)
    assert mail["Subject"] == "Ihre Buchung ist bestätigt"
    assert [m["To"] for m in box.messages()] == [TEACHER]

    busy = client.get(f"/api/v1/resources/{hall['hall']}/availability?from={DAY}&to={DAY}")
    part_a = next(u for u in busy.json["units"] if u["name"] == "Drittel A")
    assert part_a["busy"] == [{"start": _berlin(DAY, "16:00"), "end": _berlin(DAY, "17:30")}]


def test_request_where_the_office_approves_tells_the_office(app, client, hall, partner_key):
    with app.app_context():
        db.session.execute(
            update(Resource).where(Resource.id == hall["hall"]).values(needs_approval=True)
        )
        db.session.commit()
    box = Mailbox_for(app)
    response = _post(
        client,
        partner_key,
        resource_id=hall["hall"],
        start=_berlin(DAY, "18:00"),
        end=_berlin(DAY, "20:00"),
    )
    assert response.status_code == 201
    assert response.json["status"] == "requested"
    assert response.json["status_text"] == "angefragt"
    assert box.latest(to=OFFICE)["Subject"] == "Neue Buchungsanfrage"
    assert box.latest(to=PARTNER)["Subject"] == "Ihre Buchungsanfrage ist eingegangen"
    assert sorted(str(m["To"]) for m in box.messages()) == [PARTNER, OFFICE]


def test_a_taken_time_is_refused_naming_the_part_with_alternatives(
    app, client, hall, book, staff, partner_key
):
    book(hall["A"], DAY, "17:00", "19:00", staff_id=staff)
    response = _post(
        client,
        partner_key,
        resource_id=hall["hall"],
        start=_berlin(DAY, "17:00"),
        end=_berlin(DAY, "19:00"),
    )
    assert response.status_code == 409
    error = response.json["error"]
    assert error["code"] == "taken"
    assert "Drittel A 17:00–19:00" in error["message"]
    assert error["details"] == [
        {
            "resource_id": hall["A"],
            "resource_name": "Drittel A",
            "start": _berlin(DAY, "17:00"),
            "end": _berlin(DAY, "19:00"),
        }
    ]
    assert error["alternatives"][0] == {
        "resource_id": hall["hall"],
        "resource_name": "Dreifachhalle",
        "start": _berlin(DAY, "19:00"),
        "end": _berlin(DAY, "21:00"),
    }
    assert {"resource_name": "Drittel B", "start": _berlin(DAY, "17:00")}.items() <= error[
        "alternatives"
    ][1].items()
    # the alternative books
    alternative = error["alternatives"][0]
    again = _post(
        client,
        partner_key,
        resource_id=alternative["resource_id"],
        start=alternative["start"],
        end=alternative["end"],
    )
    assert again.status_code == 201


def test_closed_and_rule_breaking_requests(app, client, hall, partner_key):
    with app.app_context():
        db.session.add(
            Closure(
                resource_id=None,
                title="Weihnachtsferien",
                starts_at=local(DAY, "00:00"),
                ends_at=local(DAY, "23:00"),
            )
        )
        db.session.commit()
    closed = _post(
        client,
        partner_key,
        resource_id=hall["B"],
        start=_berlin(DAY, "18:00"),
        end=_berlin(DAY, "19:00"),
    )
    assert closed.status_code == 409
    assert closed.json["error"]["code"] == "closed"
    assert "Weihnachtsferien" in closed.json["error"]["message"]

    later = DAY + timedelta(days=1)
    outside = _post(
        client,
        partner_key,
        resource_id=hall["B"],
        start=_berlin(later, "08:00"),
        end=_berlin(later, "09:00"),
    )
    assert outside.status_code == 422
    assert outside.json["error"]["details"] == [
        {"field": "start", "message": "Diese Zeit liegt außerhalb der Öffnungszeiten."}
    ]
    for body, field in [
        ({"start": "morgen", "end": _berlin(later, "19:00")}, "start"),
        ({"start": _berlin(later, "19:00"), "end": _berlin(later, "18:00")}, "end"),
        (
            {"start": _berlin(later, "18:00"), "end": _berlin(later, "19:00"), "purpose": ""},
            "purpose",
        ),
        (
            {"start": _berlin(later, "18:00"), "end": _berlin(later, "19:00"), "colour": "rot"},
            "colour",
        ),
    ]:
        response = _post(client, partner_key, resource_id=hall["B"], **body)
        assert response.status_code == 422, body
        assert response.json["error"]["details"][0]["field"] == field
    assert (
        client.post(
            "/api/v1/bookings", data="x", headers={"Authorization": f"Bearer {partner_key}"}
        ).status_code
        == 415
    )


def test_keys_are_needed_scoped_and_see_only_their_own_bookings(
    app, client, hall, make_resource, partner_key
):
    other_hall = make_resource("Turnhalle Nord")
    start, end = _berlin(DAY, "18:00"), _berlin(DAY, "19:00")
    assert client.post("/api/v1/bookings", json={}).json["error"]["code"] == "unauthorized"
    wrong = _post(client, "lotse_b_falsch", resource_id=hall["A"], start=start, end=end)
    assert wrong.status_code == 401
    assert client.get(f"/api/v1/bookings?api_key={partner_key}").status_code == 400
    refused = _post(client, partner_key, resource_id=other_hall, start=start, end=end)
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "resource_not_allowed"

    booking_id = _post(client, partner_key, resource_id=hall["A"], start=start, end=end).json["id"]
    headers = {"X-Api-Key": partner_key}
    listed = client.get(f"/api/v1/bookings?from={DAY}&to={DAY}", headers=headers).json
    assert [b["id"] for b in listed["bookings"]] == [booking_id]
    with app.app_context():
        from buchung.api.keys import create_key

        _key, other = create_key("Sportbund", "info@sportbund.example", [hall["hall"]])
        db.session.commit()
    assert (
        client.get(f"/api/v1/bookings/{booking_id}", headers={"X-Api-Key": other}).status_code
        == 404
    )
    assert (
        client.delete(f"/api/v1/bookings/{booking_id}", headers={"X-Api-Key": other}).status_code
        == 404
    )


def test_partner_cancels_its_booking_and_the_time_is_free_again(app, client, hall, partner_key):
    headers = {"Authorization": f"Bearer {partner_key}"}
    booking = _post(
        client,
        partner_key,
        resource_id=hall["A"],
        start=_berlin(DAY, "18:00"),
        end=_berlin(DAY, "19:00"),
    ).json
    box = Mailbox_for(app)
    response = client.delete(f"/api/v1/bookings/{booking['id']}", headers=headers)
    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    assert box.latest(to=PARTNER)["Subject"] == "Ihre Buchung ist storniert"
    assert [str(m["To"]) for m in box.messages()] == [PARTNER]
    assert (
        client.delete(f"/api/v1/bookings/{booking['id']}", headers=headers).json["status"]
        == "cancelled"
    )
    assert (
        client.get(f"/api/v1/bookings/{booking['id']}", headers=headers).json["status"]
        == "cancelled"
    )
    again = _post(
        client,
        partner_key,
        resource_id=hall["hall"],
        start=_berlin(DAY, "18:00"),
        end=_berlin(DAY, "19:00"),
    )
    assert again.status_code == 201


def test_revoked_key_is_refused(app, client, form_post, auth, hall, partner_key):
    auth.login(email="buero@town.example")
    with app.app_context():
        key_id = db.session.scalar(select(PartnerKey.id))
    form_post(
        f"/verwaltung/buchung/api-schluessel/{key_id}/widerrufen",
        {},
        page="/verwaltung/buchung/api-schluessel/",
    )
    response = _post(
        client,
        partner_key,
        resource_id=hall["A"],
        start=_berlin(DAY, "18:00"),
        end=_berlin(DAY, "19:00"),
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_key"


def test_a_key_issued_before_keys_were_shared_with_open311_still_works(app, client, hall):
    """Keys already handed out were stored as the SHA-256 (hex) of the key: they stay valid."""
    raw = "lotse_b_" + "k" * 43
    store_key_as_before(app, PartnerKey, raw, contact_email=PARTNER, resource_ids=[hall["hall"]])
    start, end = _berlin(DAY, "18:00"), _berlin(DAY, "19:00")
    assert _post(client, raw, resource_id=hall["A"], start=start, end=end).status_code == 201
    assert _post(client, raw[:-1], resource_id=hall["A"], start=start, end=end).status_code == 401


def Mailbox_for(app) -> Mailbox:  # noqa: N802 - reads like the class it returns
    from pathlib import Path

    return Mailbox(Path(app.instance_path) / "mail")
