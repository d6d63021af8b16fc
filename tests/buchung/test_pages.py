"""Public pages: the resource list with filters and the week view."""

from __future__ import annotations

from datetime import timedelta

import pytest

from buchung.models import Closure
from lotse.extensions import db
from tests.buchung.conftest import local, next_weekday

DAY = next_weekday(2)


@pytest.fixture
def town(make_resource, make_hall):
    make_hall(equipment="Basketballkörbe, Tribüne", capacity=400)
    make_resource("Sitzungssaal", kind="meeting_room", capacity=40, equipment="Beamer")
    make_resource("Besprechungsraum", kind="meeting_room", capacity=8, equipment="Whiteboard")


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("", ["Dreifachhalle", "Sitzungssaal", "Besprechungsraum"], []),
        ("?kind=meeting_room", ["Sitzungssaal", "Besprechungsraum"], ["Dreifachhalle"]),
        ("?capacity=20", ["Dreifachhalle", "Sitzungssaal"], ["Besprechungsraum"]),
        ("?equipment=beamer", ["Sitzungssaal"], ["Dreifachhalle", "Besprechungsraum"]),
    ],
)
def test_filters(client, town, query, shown, hidden):
    html = client.get(f"/buchung/{query}").get_data(as_text=True)
    for name in shown:
        assert f">{name}</a>" in html
    for name in hidden:
        assert f">{name}</a>" not in html


def test_filter_by_free_day(app, client, town):
    with app.app_context():
        db.session.add(
            Closure(
                title="Umbau",
                starts_at=local(DAY, "00:00"),
                ends_at=local(DAY, "24:00"),
                resource_id=2,
            )
        )
        db.session.commit()
    html = client.get(f"/buchung/?day={DAY.isoformat()}").get_data(as_text=True)
    assert ">Dreifachhalle</a>" in html and ">Sitzungssaal</a>" in html


def test_bad_filter_input_gets_a_message(client, town):
    html = client.get("/buchung/?capacity=0").get_data(as_text=True)
    assert "Bitte eine Zahl ab 1." in html


def test_week_view_states_and_navigation(app, client, make_hall, book):
    ids = make_hall(hours=("08:00", "22:00"))
    book(ids["A"], DAY, "10:00", "11:00")
    book(ids["hall"], DAY, "12:00", "13:00")
    html = client.get(f"/buchung/{ids['hall']}?woche={DAY.isoformat()}").get_data(as_text=True)
    assert "<table" in html and "<caption>" in html and 'scope="row"' in html
    assert 'cell--partial"><a href' in html and 'cell--booked" rowspan="2">belegt<' in html
    # An older link with ?woche= shows that week from Monday; the links move by seven days.
    monday = DAY - timedelta(days=DAY.weekday())
    assert f"ab={(monday + timedelta(days=7)).isoformat()}" in html
    assert "Vorherige Woche" in html
    # A free cell links to the booking form with date and time filled in.
    with app.app_context():
        start = local(DAY, "14:00").strftime("%Y-%m-%dT%H:%MZ")
    assert f"/buchung/{ids['hall']}/buchen?start={start}" in html
    form = client.get(f"/buchung/{ids['hall']}/buchen?start={start}").get_data(as_text=True)
    assert 'value="14:00"' in form and f'value="{DAY.isoformat()}"' in form
    part = client.get(f"/buchung/{ids['B']}?woche={DAY.isoformat()}").get_data(as_text=True)
    assert "cell--partial" not in part and 'cell--booked" rowspan="2">belegt<' in part


def test_inactive_resource_is_gone(client, make_resource):
    resource_id = make_resource(active=False)
    assert client.get(f"/buchung/{resource_id}").status_code == 404
    assert client.get(f"/buchung/{resource_id}/buchen").status_code == 404
