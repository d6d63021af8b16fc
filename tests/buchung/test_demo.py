"""``flask lotse seed-demo``: a login for every role and two clubs, each showing its data."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from buchung.clock import local_today

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
