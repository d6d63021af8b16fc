"""Booking rules through the public form: every broken rule is a German field message, nothing stored."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from buchung.clock import local_moment
from buchung.models import Closure
from lotse.extensions import db
from tests.buchung.conftest import next_weekday
from tests.buchung.test_integrity import _last_sunday

pytestmark = pytest.mark.both_dbs

DAY = next_weekday(1)


def booking_data(day: date = DAY, **overrides) -> dict:
    data = {
        "day": str(day),
        "start": "10:00",
        "end": "11:00",
        "purpose": "Training",
        "attendees": "12",
        "customer_group": "private",
        "contact_name": "Gabi Gast",
        "contact_email": "gabi@example.org",
        "contact_phone": "02422 123",
    }
    data.update(overrides)
    return data


@pytest.fixture
def post_booking(form_post, make_resource):
    """Post the public booking form for a resource open 08:00–22:00, 60–240 minutes, 30-minute grid."""

    def post(resource_id: int | None = None, **overrides):
        resource_id = resource_id or make_resource(
            hours=("08:00", "22:00"), min_minutes=60, max_minutes=240, horizon_days=60
        )
        day = overrides.pop("day", DAY)
        return form_post(f"/buchung/{resource_id}/buchen", booking_data(day, **overrides))

    return post


def test_valid_booking_is_held_until_confirmed(post_booking, counts):
    response = post_booking()
    assert response.status_code == 302
    assert "/buchung/gesendet" in response.headers["Location"]
    assert counts() == (1, 4)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"purpose": ""}, "Bitte geben Sie den Zweck an."),
        ({"contact_name": ""}, "Bitte geben Sie Ihren Namen an."),
        ({"contact_email": "kein-at-zeichen"}, "Bitte geben Sie eine gültige E-Mail-Adresse an."),
        ({"contact_phone": ""}, "Bitte geben Sie eine Telefonnummer an."),
        ({"day": ""}, "Bitte geben Sie das Datum an."),
        ({"start": "25:00"}, "Bitte im Format TT.MM.JJJJ bzw. HH:MM angeben."),
        ({"end": ""}, "Bitte geben Sie die Endzeit an."),
        ({"attendees": "0"}, "Bitte eine Zahl von 1 bis 10000."),
        ({"attendees": "51"}, "Hier haben höchstens 50 Personen Platz."),
        ({"customer_group": "bank"}, "Keine gültige Auswahl."),
        ({"start": "11:00", "end": "10:00"}, "Das Ende muss nach dem Beginn liegen."),
        ({"start": "10:10"}, "Bitte wählen Sie eine Uhrzeit im Raster von 30 Minuten."),
        ({"start": "07:00", "end": "08:30"}, "Diese Zeit liegt außerhalb der Öffnungszeiten."),
        ({"start": "21:30", "end": "22:30"}, "Diese Zeit liegt außerhalb der Öffnungszeiten."),
        ({"end": "10:30"}, "Eine Buchung dauert mindestens 60 Minuten."),
        ({"end": "14:30"}, "Eine Buchung dauert höchstens 240 Minuten."),
        ({"day": date.today() - timedelta(days=1)}, "Dieser Termin liegt in der Vergangenheit."),
        ({"day": date.today() + timedelta(days=70)}, "höchstens 60 Tage im Voraus möglich."),
    ],
)
def test_invalid_input_gets_a_field_message_and_stores_nothing(
    post_booking, counts, overrides, message
):
    response = post_booking(**overrides)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert 'class="error-summary"' in html
    assert counts() == (0, 0)


def test_customer_group_message_is_german(post_booking):
    html = post_booking(customer_group="").get_data(as_text=True)
    assert "Bitte wählen Sie aus, als wer Sie buchen." in html


def test_time_skipped_by_dst_is_refused(post_booking, make_resource, counts):
    resource_id = make_resource(horizon_days=800)
    night = _last_sunday(3)
    response = post_booking(resource_id, day=night, start="02:00", end="03:30")
    assert "Diese Uhrzeit gibt es in der Nacht der Zeitumstellung nicht." in response.get_data(
        as_text=True
    )
    assert counts() == (0, 0)


def _closure(app, resource_id, title, start, end, **kw):
    with app.app_context():
        db.session.add(
            Closure(
                resource_id=resource_id,
                title=title,
                starts_at=local_moment(start[0], start[1]),
                ends_at=local_moment(end[0], end[1]),
                **kw,
            )
        )
        db.session.commit()


def test_one_off_closure_of_a_hall_closes_its_parts(app, make_hall, post_booking, counts):
    ids = make_hall()
    _closure(app, ids["hall"], "Bodensanierung", (DAY, 0), (DAY, 1440))
    html = post_booking(ids["B"]).get_data(as_text=True)
    assert "In dieser Zeit ist geschlossen: Bodensanierung." in html
    assert counts() == (0, 0)


def test_closure_of_a_part_closes_the_whole_hall_only(app, make_hall, post_booking):
    ids = make_hall()
    _closure(app, ids["A"], "Wasserschaden", (DAY, 9 * 60), (DAY, 12 * 60))
    assert "Wasserschaden" in post_booking(ids["hall"]).get_data(as_text=True)
    assert post_booking(ids["B"]).status_code == 302


def test_weekly_closure_repeats_at_local_time(app, make_resource, post_booking):
    resource_id = make_resource()
    first = DAY - timedelta(days=28)
    _closure(app, None, "Schulsport", (first, 8 * 60), (first, 13 * 60), weekly=True)
    html = post_booking(resource_id, start="12:00", end="13:00").get_data(as_text=True)
    assert "In dieser Zeit ist geschlossen: Schulsport." in html
    assert post_booking(resource_id, start="13:00", end="14:00").status_code == 302


def test_weekly_closure_ends(app, make_resource, post_booking):
    resource_id = make_resource()
    first = DAY - timedelta(days=28)
    _closure(
        app,
        resource_id,
        "Schulsport",
        (first, 8 * 60),
        (first, 13 * 60),
        weekly=True,
        repeat_until=DAY - timedelta(days=1),
    )
    assert post_booking(resource_id).status_code == 302


def test_public_holiday_closes(make_resource, post_booking, counts):
    today = date.today()
    christmas = date(today.year, 12, 25)
    if christmas <= today + timedelta(days=1):
        christmas = date(today.year + 1, 12, 25)
    resource_id = make_resource(horizon_days=800)
    html = post_booking(resource_id, day=christmas).get_data(as_text=True)
    assert "In dieser Zeit ist geschlossen: Feiertag: Erster Weihnachtstag." in html
    assert counts() == (0, 0)


def test_holidays_can_be_switched_off(make_app, make_resource):
    # The fixture app is the first; a second app on the same database has the switch off.
    make_resource()
    other = make_app(BUCHUNG_CLOSED_ON_HOLIDAYS=False)
    with other.app_context():
        from buchung.models import Resource
        from buchung.services.rules import closed_intervals

        resource = db.session.get(Resource, 1)
        christmas = date(date.today().year + 1, 12, 25)
        assert (
            closed_intervals(resource, local_moment(christmas, 0), local_moment(christmas, 1440))
            == []
        )


@pytest.mark.parametrize(
    ("access", "message"),
    [
        ("staff", "Diesen Raum vergibt nur das Buchungsbüro."),
        ("clubs", "Diesen Raum können nur Vereine buchen."),
    ],
)
def test_access_limits(make_resource, post_booking, counts, access, message):
    resource_id = make_resource(access=access)
    assert message in post_booking(resource_id).get_data(as_text=True)
    assert counts() == (0, 0)


def test_taken_time_is_a_clear_409(post_booking, make_resource, book, counts):
    resource_id = make_resource()
    book(resource_id, DAY, "10:30", "11:30")
    response = post_booking(resource_id)
    assert response.status_code == 409
    assert "Dieser Termin ist gerade vergeben." in response.get_data(as_text=True)
    assert counts() == (1, 4)


def test_taken_time_is_json_409_for_api_clients(client, make_resource, book):
    from tests.conftest import csrf_token_from

    resource_id = make_resource()
    book(resource_id, DAY, "10:00", "11:00")
    token = csrf_token_from(client.get(f"/buchung/{resource_id}/buchen").get_data(as_text=True))
    response = client.post(
        f"/buchung/{resource_id}/buchen",
        data={**booking_data(), "csrf_token": token},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == 409


def test_post_without_csrf_token_is_refused(client, make_resource, counts):
    resource_id = make_resource()
    response = client.post(f"/buchung/{resource_id}/buchen", data=booking_data())
    assert response.status_code == 400
    assert counts() == (0, 0)
