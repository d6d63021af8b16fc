"""``flask lotse seed-demo``: a login for every role and two clubs, each showing its data."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from buchung.allocation.models import AllocationRound
from buchung.clock import local_today
from lotse.extensions import db
from lotse.models import utcnow

LOGIN_RE = re.compile(r"^ {4}(?P<label>[^:]+):\s+(?P<email>\S+) / (?P<password>\S+)$", re.M)


@pytest.fixture
def demo(app, runner) -> dict[str, tuple[str, str]]:
    """Seed the demo town; the printed logins by label."""
    result = runner.invoke(args=["lotse", "seed-demo"])
    assert result.exit_code == 0, result.output
    login_file = Path(app.instance_path) / "demo-login.txt"
    assert login_file.read_text() in result.output
    assert login_file.stat().st_mode & 0o077 == 0
    return {m["label"]: (m["email"], m["password"]) for m in LOGIN_RE.finditer(result.output)}


def test_every_role_and_two_clubs_get_a_printed_login(app, runner, demo):
    assert set(demo) == {
        "Administration",
        "Tiefbau",
        "Buchungsbüro",
        "Hausmeisterei",
        "Verein TV Musterstadt 1890",
        "Verein BC Rur",
    }
    output = (Path(app.instance_path) / "demo-login.txt").read_text()
    assert "http://localhost/anmelden" in output
    assert "http://localhost/buchung/verein/anmelden" in output
    again = runner.invoke(args=["lotse", "seed-demo", "--if-empty"])
    assert again.exit_code == 0 and again.output.strip() == output.strip()


def test_the_caretaker_sees_the_clubs_trainings(app, client, auth, demo):
    with app.app_context():
        today = local_today()
    monday = today + timedelta(days=7 - today.weekday())  # the demo's first week
    auth.login(*demo["Hausmeisterei"])
    page = client.get(f"/verwaltung/buchung/hausmeisterei?tag={monday.isoformat()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    assert "18:00–20:00</td><td>Drittel A</td><td>TV Musterstadt 1890</td>" in table
    assert "18:00–20:00</td><td>Drittel B</td><td>BC Rur</td>" in table


@pytest.mark.parametrize(
    ("club", "series", "booking"),
    [
        ("Verein TV Musterstadt 1890", "Kinderturnen", "Training Handball-Jugend"),
        ("Verein BC Rur", "Basketball Herren", "Basketball Herren"),
    ],
)
def test_each_club_login_shows_its_series_and_bookings(
    client, form_post, demo, club_login, club, series, booking
):
    response = club_login(*demo[club])
    assert response.status_code == 302
    html = client.get("/buchung/verein/").get_data(as_text=True)
    assert club.removeprefix("Verein ") in html
    assert series in html and booking in html


def test_the_booking_office_sees_a_round_in_progress(client, auth, demo):
    auth.login(*demo["Buchungsbüro"])
    html = client.get("/verwaltung/buchung/vergabe/").get_data(as_text=True)
    assert "Hallenvergabe" in html
    for login in ("Administration", "Tiefbau"):
        auth.logout()
        auth.login(*demo[login])
        assert client.get("/verwaltung/").status_code == 200


def test_the_office_walks_the_closed_round_from_proposal_to_publishing(
    app, client, auth, form_post, club_login, demo, mailbox
):
    """``make run`` with the demo: a round whose deadline has passed, three clubs'
    applications; proposal, check (with a gap to accept), publish, the club's result."""
    auth.login(*demo["Buchungsbüro"])
    overview = client.get("/verwaltung/buchung/vergabe/").get_data(as_text=True)
    with app.app_context():
        round_ = db.session.scalar(
            select(AllocationRound).where(AllocationRound.turns == "members")
        )
        round_id, name = round_.id, round_.name
        assert round_.deadline < utcnow()
        assert {r.club.name for r in round_.requests} == {
            "TV Musterstadt 1890",
            "BC Rur",
            "SG Rurtal",
        }
    assert name in overview
    round_url = f"/verwaltung/buchung/vergabe/{round_id}"
    page = client.get(round_url).get_data(as_text=True)
    assert "„Wettkampf“ beantragt, noch nicht bestätigt" in page and "640 (Stand " in page
    assert form_post(f"{round_url}/vorschlag", page=round_url).status_code == 302
    check = client.get(f"{round_url}/pruefen").get_data(as_text=True)
    assert "Die Zeit ist schon belegt." in check and "Hallenreinigung" in check
    digest = re.search(r'name="gaps" type="hidden" value="([0-9a-f]+)"', check)
    response = form_post(
        f"{round_url}/veroeffentlichen",
        {"gaps": digest.group(1), "accept": "y"},
        page=f"{round_url}/pruefen",
    )
    assert response.status_code == 302
    assert "Veröffentlicht am" in client.get(round_url).get_data(as_text=True)
    result = mailbox.latest(to="verein@tv-musterstadt.example")
    assert result["Subject"].startswith("Ergebnis der Saisonvergabe: Hallenvergabe")
    assert "Handball D-Jugend" in mailbox.text(result)
    auth.logout()
    club_login(*demo["Verein TV Musterstadt 1890"])
    page = client.get(f"/buchung/verein/vergabe/{round_id}/ergebnis").get_data(as_text=True)
    assert "Handball D-Jugend" in page and "Volleyball Damen 1" in page
