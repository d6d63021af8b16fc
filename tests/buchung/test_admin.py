"""The booking office: scoping by department, calendar, manual bookings, blockings, resources, closures."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from buchung.models import Booking, Closure, Resource
from lotse.extensions import db
from tests.buchung.conftest import next_weekday

pytestmark = pytest.mark.both_dbs

DAY = next_weekday(0)


def staff_booking(**overrides) -> dict:
    data = {
        "kind": "booking",
        "day": DAY.isoformat(),
        "start": "07:00",
        "end": "07:30",
        "purpose": "Anruf: Probe Chor",
        "contact_name": "Carla Chor",
        "contact_phone": "0160 1",
        "contact_email": "",
    }
    data.update(overrides)
    return data


def test_staff_link_and_dashboard(client, office):
    office()
    assert "Hallen- und Raumbuchung" in client.get("/verwaltung/").get_data(as_text=True)
    assert client.get("/verwaltung/buchung/").status_code == 200


def test_guests_and_other_roles_are_kept_out(client, make_user, auth):
    assert client.get("/verwaltung/buchung/").status_code == 302
    make_user(roles=("clerk",))
    auth.login()
    assert client.get("/verwaltung/buchung/").status_code == 403


def test_office_sees_only_its_departments(client, office, make_department, make_resource, book):
    resource_id = make_resource()
    booking_id = book(resource_id, DAY, "10:00", "11:00")
    other = make_department("Kulturamt")
    office(email="kultur@town.example", departments=(other.id,))
    assert client.get(f"/verwaltung/buchung/raeume/{resource_id}").status_code == 404
    assert client.get(f"/verwaltung/buchung/buchungen/{booking_id}").status_code == 404
    assert "Gymnastikhalle" not in client.get("/verwaltung/buchung/kalender").get_data(as_text=True)


def test_calendar_shows_bookers_to_staff(client, office, make_hall, book):
    ids = make_hall()
    book(ids["A"], DAY, "18:00", "20:00", purpose="Handball-Jugend")
    office()
    html = client.get(f"/verwaltung/buchung/kalender?datum={DAY.isoformat()}").get_data(
        as_text=True
    )
    assert "Handball-Jugend" in html and "Gabi Gast" in html
    assert "Dreifachhalle – Drittel A" in html
    day_view = client.get(f"/verwaltung/buchung/kalender?datum={DAY.isoformat()}&ansicht=tag")
    assert "Handball-Jugend" in day_view.get_data(as_text=True)


def test_booking_on_behalf_ignores_public_rules_but_not_the_slots(
    app, form_post, office, make_resource, book, counts
):
    resource_id = make_resource(hours=("08:00", "22:00"), min_minutes=60)
    office()
    url = "/verwaltung/buchung/buchungen/neu"
    response = form_post(url, staff_booking(resource_id=resource_id))
    assert response.status_code == 302
    with app.app_context():
        booking = db.session.scalar(select(Booking))
        assert (booking.status, booking.contact_name, booking.created_by.email) == (
            "confirmed",
            "Carla Chor",
            "buero@town.example",
        )
    taken = form_post(url, staff_booking(resource_id=resource_id, kind="blocking", contact_name=""))
    assert taken.status_code == 409
    assert "Dieser Termin ist gerade vergeben." in taken.get_data(as_text=True)
    # The office is told which booking is in the way.
    when = f"{DAY:%d.%m.} 07:00–07:30"
    assert f"Gymnastikhalle ist am Mo {when} belegt." in taken.get_data(as_text=True)
    assert counts() == (1, 2)


def test_blocking_needs_no_contact(app, form_post, office, make_hall):
    ids = make_hall()
    office()
    response = form_post(
        "/verwaltung/buchung/buchungen/neu",
        staff_booking(
            resource_id=ids["hall"],
            kind="blocking",
            contact_name="",
            purpose="Wartung",
            start="10:00",
            end="12:00",
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        blocking = db.session.scalar(select(Booking))
        assert (blocking.kind, blocking.status) == ("blocking", "confirmed")


def test_booking_for_a_caller_needs_a_name(form_post, office, make_resource, counts):
    resource_id = make_resource()
    office()
    response = form_post(
        "/verwaltung/buchung/buchungen/neu", staff_booking(resource_id=resource_id, contact_name="")
    )
    assert "Bitte geben Sie an, für wen gebucht wird." in response.get_data(as_text=True)
    assert counts() == (0, 0)


def test_staff_cancels_with_reason(app, form_post, office, make_resource, book):
    resource_id = make_resource()
    booking_id = book(resource_id, DAY, "10:00", "11:00")
    office()
    detail = f"/verwaltung/buchung/buchungen/{booking_id}"
    form_post(f"{detail}/stornieren", {"cancel-reason": "Wasserschaden"}, page=detail)
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        assert (booking.status, booking.reason) == ("cancelled", "Wasserschaden")
    book(resource_id, DAY, "10:00", "11:00")


def _resource_form(**overrides) -> dict:
    data = {
        "name": "Turnhalle Grundschule",
        "kind": "hall",
        "parent_id": "0",
        "department_id": "1",
        "description": "Kleine Halle",
        "capacity": "60",
        "equipment": "Sprossenwand, Matten",
        "accessibility": "",
        "address": "Schulstraße 1",
        "lat": "50.75",
        "lon": "6.49",
        "slot_minutes": "30",
        "min_minutes": "60",
        "max_minutes": "180",
        "horizon_days": "90",
        "access": "public",
        "hours_0": "16:00-22:00",
        "hours_5": "08:00-12:00, 14:00-20:00",
        "active": "y",
    }
    data.update(overrides)
    return data


def test_create_resource_with_opening_hours(app, client, form_post, office, sport_id):
    office()
    response = form_post(
        "/verwaltung/buchung/raeume/neu", _resource_form(department_id=str(sport_id))
    )
    assert response.status_code == 302
    with app.app_context():
        resource = db.session.scalar(select(Resource))
        hours = [(h.weekday, h.opens_minute, h.closes_minute) for h in resource.opening_hours]
        assert hours == [(0, 960, 1320), (5, 480, 720), (5, 840, 1200)]
    page = client.get(f"/buchung/{resource.id}").get_data(as_text=True)
    assert "Sprossenwand" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hours_0": "16-22"}, "Bitte im Format 08:00-22:00 angeben, mehrere durch Komma."),
        ({"hours_1": "22:00-16:00"}, "Bitte im Format 08:00-22:00 angeben, mehrere durch Komma."),
        ({"max_minutes": "30"}, "Die Höchstdauer muss mindestens die Mindestdauer sein."),
        ({"min_minutes": "45"}, "Bitte ein Vielfaches des Zeitrasters angeben."),
        ({"name": ""}, "Bitte geben Sie einen Namen an."),
        ({"lat": "95"}, "Bitte -90 bis 90."),
    ],
)
def test_resource_form_messages(app, form_post, office, sport_id, overrides, message):
    office()
    response = form_post(
        "/verwaltung/buchung/raeume/neu", _resource_form(department_id=str(sport_id), **overrides)
    )
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Resource)) is None


def test_parts_of_a_hall(app, form_post, office, make_resource, sport_id):
    hall_id = make_resource("Dreifachhalle", kind="hall")
    office()
    response = form_post(
        "/verwaltung/buchung/raeume/neu",
        _resource_form(name="Drittel A", parent_id=str(hall_id), department_id=str(sport_id)),
    )
    assert response.status_code == 302
    with app.app_context():
        hall = db.session.get(Resource, hall_id)
        assert [p.name for p in hall.parts] == ["Drittel A"]
        assert hall.unit_ids() == [hall.parts[0].id]


def test_photo_upload_is_reencoded(app, client, office, make_resource):
    from tests.conftest import csrf_token_from

    resource_id = make_resource()
    office()
    page = f"/verwaltung/buchung/raeume/{resource_id}"
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 2000), "red").save(buffer, "PNG")
    buffer.seek(0)
    response = client.post(
        f"{page}/fotos",
        data={"csrf_token": token, "alt_text": "Halle von innen", "photo": (buffer, "halle.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        photo = db.session.get(Resource, resource_id).photos[0]
    served = client.get(f"/buchung/fotos/{photo.filename}")
    image = Image.open(io.BytesIO(served.data))
    served.close()
    assert (image.format, max(image.size)) == ("JPEG", 1600)
    assert 'alt="Halle von innen"' in client.get(f"/buchung/{resource_id}").get_data(as_text=True)


def closure_data(resource_id: int, **overrides) -> dict:
    data = {
        "resource_id": str(resource_id),
        "title": "Schulsport",
        "start_day": DAY.isoformat(),
        "end_day": DAY.isoformat(),
        "start_time": "",
        "end_time": "",
    }
    data.update(overrides)
    return data


def test_closure_lists_the_bookings_it_hits(app, client, form_post, office, make_resource, book):
    resource_id = make_resource()
    book(resource_id, DAY, "10:00", "11:00", purpose="Yoga")
    book(resource_id, DAY + timedelta(days=1), "10:00", "11:00", purpose="Pilates")
    office()
    response = form_post(
        "/verwaltung/buchung/sperrzeiten/neu", closure_data(resource_id, title="Bodensanierung")
    )
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 Buchung ist betroffen" in html
    assert "Yoga" in html and "gast@example.org" in html and "Pilates" not in html


def test_closure_for_all_resources_is_for_admins(client, form_post, office):
    office()
    html = client.get("/verwaltung/buchung/sperrzeiten/neu").get_data(as_text=True)
    assert '<option value="0">Alle Räume</option>' not in html


def test_weekly_closure_form(app, form_post, office, make_resource):
    resource_id = make_resource()
    office()
    response = form_post(
        "/verwaltung/buchung/sperrzeiten/neu",
        closure_data(
            resource_id,
            start_time="08:00",
            end_time="13:00",
            weekly="y",
            repeat_until=(DAY + timedelta(days=60)).isoformat(),
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        closure = db.session.scalar(select(Closure))
        assert closure.weekly and closure.ends_at - closure.starts_at == timedelta(hours=5)


def test_closure_form_messages(form_post, office, make_resource):
    resource_id = make_resource()
    office()
    html = form_post(
        "/verwaltung/buchung/sperrzeiten/neu",
        closure_data(
            resource_id, title="", end_day=(DAY - timedelta(days=1)).isoformat(), start_time="10:00"
        ),
    ).get_data(as_text=True)
    assert "Bitte geben Sie eine Bezeichnung an." in html
    assert "Der letzte Tag darf nicht vor dem ersten liegen." in html
    assert "Bitte beide Uhrzeiten angeben oder keine." in html


def test_no_new_part_while_the_whole_hall_is_booked(
    app, form_post, office, make_hall, book, sport_id
):
    ids = make_hall()
    book(ids["hall"], DAY, "10:00", "11:00")
    office()
    response = form_post(
        "/verwaltung/buchung/raeume/neu",
        _resource_form(name="Drittel D", parent_id=str(ids["hall"]), department_id=str(sport_id)),
    )
    assert "Diese Halle hat kommende Buchungen als Ganzes" in response.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.get(Resource, ids["hall"]).parts) == 3
