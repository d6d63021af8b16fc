"""Turns weighted by members: the club enters its member count with the application, the
office sees it (and may enter or correct it), and the proposal shares hours by it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from buchung.allocation.models import AllocationRound, PriorityClass
from buchung.allocation.services import create_request
from buchung.club_models import Club
from lotse.extensions import db
from tests.buchung.allocation_helpers import application, class_id, end_deadline, make_round
from tests.buchung.test_allocation_classes import club_client, post

pytestmark = pytest.mark.both_dbs


def test_member_counts_from_application_to_proposal(
    app, client, office, make_resource, make_club, mailbox
):
    hall = make_resource("Nordhalle", kind="hall", hours=("08:00", "22:00"))
    big = make_club("Großverein", "gross@example.org")
    make_club("Kleinverein", "klein@example.org")
    first = date.today() - timedelta(days=date.today().weekday()) + timedelta(weeks=3)
    round_id = make_round(app, [hall], first, first + timedelta(weeks=4, days=-1))
    with app.app_context():
        db.session.get(AllocationRound, round_id).turns = "members"
        db.session.commit()
    url = f"/buchung/verein/vergabe/{round_id}/antrag"
    wish = application("Erste", class_id(app, "Training"), [hall], ([0, 1, 2, 3], "18:00"))
    wish["sessions_per_week"] = 4

    gross = club_client(app, "gross@example.org")
    page = gross.get(url).get_data(as_text=True)
    assert "Mitgliederzahl des Vereins" in page and "im Verhältnis zur Mitgliederzahl" in page
    # Without a member count the form comes back with the input and a message at the field.
    response = post(gross, url, wish)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Bitte geben Sie die Mitgliederzahl Ihres Vereins an." in text
    assert 'value="Erste"' in text
    assert post(gross, url, {**wish, "member_count": "0"}).status_code == 200
    assert post(gross, url, {**wish, "member_count": "250"}).status_code == 302
    assert "Mitgliederzahl des Vereins: 250" in mailbox.text(mailbox.latest(to="gross@example.org"))
    # The next application shows the count already entered.
    assert 'value="250"' in gross.get(url).get_data(as_text=True)

    klein = club_client(app, "klein@example.org")
    assert post(klein, url, {**wish, "team": "Zweite", "member_count": "100"}).status_code == 302

    end_deadline(app, round_id)
    office()
    round_url = f"/verwaltung/buchung/vergabe/{round_id}"
    page = client.get(round_url).get_data(as_text=True)
    assert "jeder Verein erhält Stunden im Verhältnis zu seiner Mitgliederzahl" in page
    assert "250 (Stand " in page and "100 (Stand " in page
    assert "ohne Mitgliederzahl" not in page

    # The office corrects a count on the club list; nonsense is refused at the field.
    clubs_url = "/verwaltung/buchung/vereine"
    count_url = f"/verwaltung/buchung/vereine/{big['club']}/mitglieder"
    field = f"club-{big['club']}-member_count"
    response = post(client, count_url, {field: "viele"}, page=clubs_url)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Keine gültige, ganze Zahl." in text and 'aria-invalid="true"' in text
    response = post(client, count_url, {field: "300"}, page=clubs_url)
    assert response.status_code == 302
    page = client.get(clubs_url).get_data(as_text=True)
    assert "Die Mitgliederzahl von „Großverein“ ist gespeichert: 300." in page
    assert "300 (Stand " in page

    # 300 against 100 members: three of the four evenings to the bigger club.
    post(client, f"{round_url}/vorschlag", page=round_url)
    with app.app_context():
        round_ = db.session.get(AllocationRound, round_id)
        got = {r.team: len(r.allocations) for r in round_.requests}
    assert got == {"Erste": 3, "Zweite": 1}

    # An applicant without a member count (it applied before the round weighed by members):
    # the office is told how the proposal counts it and where to enter the number.
    with app.app_context():
        round_ = db.session.get(AllocationRound, round_id)
        late = Club(name="Drittverein")
        late.approve()
        create_request(
            round_,
            late,
            team="Dritte",
            priority_class=db.session.get(PriorityClass, class_id(app, "Training")),
            sessions_per_week=1,
            duration_minutes=90,
            first=([4], 18 * 60),
            second=None,
            hall_ids=[hall],
        )
        db.session.commit()
    page = client.get(round_url).get_data(as_text=True)
    assert "1 Antragsteller ohne Mitgliederzahl:</strong> Drittverein." in page
    assert "zählen sie wie der kleinste Verein mit Mitgliederzahl" in page
    assert "fehlt – eintragen" in page
