"""The public Belegungsplan of a season: the regular weekly times and the closed days, as a
page and as a tagged PDF, without personal data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from buchung.club_models import Season
from buchung.models import Closure
from lotse.extensions import db
from tests.buchung.conftest import local, next_weekday
from tests.buchung.test_plan_pdf import PRIVATE, pdf_text
from tests.pdfcheck import assert_tagged_pdf

pytestmark = pytest.mark.both_dbs

CLUB = "SV Blau-Weiß Öhringen"


@pytest.fixture
def season(app, form_post, make_hall, make_club, book, book_series):
    """A hall with a Tuesday series on Drittel C and a Thursday one on the whole hall for
    six weeks, a guest's single booking, and a week of autumn holidays."""
    hall = make_hall()
    make_club(CLUB)
    tuesday = next_weekday(1)
    last = tuesday + timedelta(weeks=6)
    book_series(hall["C"], tuesday, last, purpose="Volleyball Damen 1")
    thursday = tuesday + timedelta(days=2)
    book_series(
        hall["hall"],
        thursday,
        last,
        start="19:00",
        end="21:30",
        every_weeks=2,
        purpose="Jugendtraining",
    )
    book(
        hall["A"], tuesday, "10:00", "11:00", email="privat@example.org", purpose="Geburtstagsfeier"
    )
    form_post("/abmelden", page="/buchung/verein/")
    with app.app_context():
        holidays = tuesday + timedelta(weeks=2, days=-1)
        db.session.add(
            Closure(
                title="Herbstferien",
                starts_at=local(holidays, "00:00"),
                ends_at=local(holidays + timedelta(days=7), "00:00"),
            )
        )
        saison = Season(name="Winter", first_day=tuesday - timedelta(days=1), last_day=last)
        db.session.add(saison)
        db.session.commit()
        return hall, saison.id, tuesday, holidays


def test_season_plan_lists_weekly_times_and_closed_days(client, season):
    hall, season_id, tuesday, holidays = season
    week = client.get(f"/buchung/{hall['hall']}/belegungsplan").get_data(as_text=True)
    url = f"/buchung/{hall['hall']}/belegungsplan/saison/{season_id}"
    assert f'href="{url}">Saisonplan „Winter“</a>' in week
    html = client.get(url).get_data(as_text=True)
    assert "<h1>Belegungsplan Dreifachhalle, Winter</h1>" in html
    assert "<li>18:00–20:00 Drittel C: belegt</li>" in html
    assert "<li>19:00–21:30 Dreifachhalle: belegt (alle 2 Wochen)</li>" in html
    end = holidays + timedelta(days=6)
    assert f"<li>{holidays:%d.%m.%Y}–{end:%d.%m.%Y}: Herbstferien</li>" in html
    for secret in (*PRIVATE, CLUB, "Volleyball"):
        assert secret not in html
    # A part's plan holds its own and the whole hall's times, not its siblings'.
    part = client.get(f"/buchung/{hall['A']}/belegungsplan/saison/{season_id}")
    part = part.get_data(as_text=True)
    assert "Dreifachhalle: belegt" in part and "Drittel C" not in part


def test_season_plan_pdf_is_tagged_and_names_clubs_only_when_allowed(app, client, season):
    hall, season_id, _tuesday, _holidays = season
    url = f"/buchung/{hall['hall']}/belegungsplan/saison/{season_id}.pdf"
    response = client.get(url)
    assert_tagged_pdf(response.data, "Belegungsplan Dreifachhalle, Winter – Lotse Musterstadt")
    text = pdf_text(response)
    assert "18:00–20:00 Drittel C: belegt" in text and "Herbstferien" in text
    assert CLUB not in text
    app.config["BUCHUNG_PUBLIC_CLUB_NAMES"] = True
    assert f"18:00–20:00 Drittel C: {CLUB}" in pdf_text(client.get(url))


def test_unknown_season_is_404(client, season):
    hall, season_id, _tuesday, _holidays = season
    assert (
        client.get(f"/buchung/{hall['hall']}/belegungsplan/saison/{season_id + 9}").status_code
        == 404
    )
