"""Classes with evidence: a claimed Wettkampf counts only once the office confirmed it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from buchung.allocation.models import AllocationNote, AllocationRequest, PriorityClass
from lotse.extensions import db
from tests.buchung.allocation_helpers import application, class_id, end_deadline, make_round
from tests.buchung.conftest import CLUB_PASSWORD
from tests.conftest import csrf_token_from

pytestmark = pytest.mark.both_dbs


def club_client(app, email):
    client = app.test_client()
    page = client.get("/buchung/verein/anmelden").get_data(as_text=True)
    client.post(
        "/buchung/verein/anmelden",
        data={"email": email, "password": CLUB_PASSWORD, "csrf_token": csrf_token_from(page)},
    )
    return client


def post(client, url, data=None, page=None):
    token = csrf_token_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def test_a_claimed_competition_class_waits_for_the_office(
    app, client, office, make_resource, make_club, mailbox
):
    hall = make_resource("Dreifachhalle", kind="hall", hours=("08:00", "22:00"))
    make_club("Männerturnverein", "mtv@example.org")
    make_club("Jugend-SV", "jsv@example.org")
    first = date.today() - timedelta(days=date.today().weekday()) + timedelta(weeks=3)
    round_id = make_round(app, [hall], first, first + timedelta(weeks=4, days=-1))
    with app.app_context():
        db.session.execute(
            update(PriorityClass)
            .where(PriorityClass.name == "Wettkampf")
            .values(needs_evidence=True)
        )
        db.session.commit()
    url = f"/buchung/verein/vergabe/{round_id}/antrag"
    men = club_client(app, "mtv@example.org")
    claim = application("Herren Freizeit", class_id(app, "Wettkampf"), [hall], ([1], "18:00"))
    claim["duration_minutes"] = 120

    # Without evidence the claim is refused at the field, the input kept.
    response = post(men, url, claim)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "nennen Sie bitte einen Nachweis" in text and 'value="Herren Freizeit"' in text
    assert post(men, url, {**claim, "evidence": "Kreisliga"}).status_code == 302
    # The club gets a receipt with what it applied for.
    receipt = mailbox.latest(to="mtv@example.org")
    assert receipt["Subject"] == "Antrag eingegangen: Herren Freizeit (Wintervergabe)"
    text = mailbox.text(receipt)
    assert "Di 18:00–20:00" in text and "Dreifachhalle" in text and "Kreisliga" in text
    assert "beantragt; zählt erst, wenn das Buchungsbüro den Nachweis bestätigt hat" in text
    youth = club_client(app, "jsv@example.org")
    wish = application("A-Jugend", class_id(app, "Training"), [hall], ([1], "18:00"))
    wish["duration_minutes"] = 120
    assert post(youth, url, wish).status_code == 302

    end_deadline(app, round_id)
    office()
    round_url = f"/verwaltung/buchung/vergabe/{round_id}"
    page = client.get(round_url).get_data(as_text=True)
    assert "„Wettkampf“ beantragt, noch nicht bestätigt" in page and "Kreisliga" in page

    # Unconfirmed, the claim counts as Training: equal rank, no "higher class" reason.
    post(client, f"{round_url}/vorschlag", page=round_url)
    with app.app_context():
        reasons = set(db.session.scalars(select(AllocationNote.reason)))
    assert reasons == {"same_class"}

    # The office confirms the class; now the competition team comes first.
    with app.app_context():
        men_request = db.session.scalar(
            select(AllocationRequest.id).where(AllocationRequest.team == "Herren Freizeit")
        )
    confirm = {"priority_class_id": class_id(app, "Wettkampf")}
    post(client, f"/verwaltung/buchung/vergabe/antrag/{men_request}/klasse", confirm, round_url)
    page = client.get(round_url).get_data(as_text=True)
    assert "Die Klasse des Antrags ist bestätigt." in page
    assert "beantragt, noch nicht bestätigt" not in page
    post(client, f"{round_url}/vorschlag", page=round_url)
    with app.app_context():
        notes = db.session.execute(
            select(AllocationRequest.team, AllocationNote.reason, AllocationNote.detail).join(
                AllocationRequest
            )
        ).all()
    assert [tuple(n) for n in notes] == [("A-Jugend", "higher_class", "Wettkampf")]
