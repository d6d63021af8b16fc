"""Quotas per season (issue 18): a quota belongs to a season, nothing carries over silently.

The office sets a club's weekly hours for one season on the quota page; they apply to the
dates of that season (club series, proposal, hand additions) and not to another season,
whose round page says "kein Kontingent" until the office copies the quotas over, which
never overwrites a differing quota without being confirmed.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from buchung.allocation.models import (
    Allocation,
    AllocationRequest,
    AllocationRound,
    PriorityClass,
)
from buchung.allocation.services import create_request
from buchung.club_models import Club
from lotse.extensions import db
from tests.buchung.allocation_helpers import class_id, end_deadline, make_round
from tests.buchung.conftest import series_data

pytestmark = pytest.mark.both_dbs

QUOTAS = "/verwaltung/buchung/vereine/kontingente"


def monday_in(weeks: int) -> date:
    today = date.today()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)


@pytest.fixture
def seasons(app, make_resource, make_club):
    """Nordhalle, SG Rurtal, and two four-week rounds: "2026/27" and then "2027/28"."""
    hall = make_resource("Nordhalle", kind="hall", hours=("08:00", "22:00"))
    club = make_club("SG Rurtal", "trainer@rurtal.example")["club"]
    first_a, first_b = monday_in(3), monday_in(7)
    round_a = make_round(app, [hall], first_a, first_a + timedelta(weeks=4, days=-1), name="A")
    round_b = make_round(app, [hall], first_b, first_b + timedelta(weeks=4, days=-1), name="B")
    with app.app_context():
        season_a = db.session.get(AllocationRound, round_a).season
        season_b = db.session.get(AllocationRound, round_b).season
        season_a.name, season_b.name = "Wintersaison 2026/27", "Wintersaison 2027/28"
        ids = dict(season_a=season_a.id, season_b=season_b.id)
        db.session.commit()
    return dict(hall=hall, club=club, round_a=round_a, round_b=round_b, **ids)


def set_season_quota(form_post, season_id: int | None, club: int, hall: int, hours: str):
    url = f"{QUOTAS}?saison={season_id}" if season_id else QUOTAS
    data = {"quota-club_id": club, "quota-resource_id": hall, "quota-hours": hours}
    return form_post(url, data)


def apply(app, round_id, club_id, team, weekday, hall_id):
    """One two-hour application at 18:00 through the service (the form is tested elsewhere)."""
    with app.app_context():
        create_request(
            db.session.get(AllocationRound, round_id),
            db.session.get(Club, club_id),
            team=team,
            priority_class=db.session.get(PriorityClass, class_id(app, "Training")),
            sessions_per_week=1,
            duration_minutes=120,
            first=([weekday], 18 * 60),
            second=None,
            hall_ids=[hall_id],
        )
        db.session.commit()


def allocated(app, round_id) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(Allocation)
            .join(AllocationRequest)
            .where(AllocationRequest.round_id == round_id)
        )


def quota_cell(html: str) -> str:
    """The text of the applicant's quota row on the round page."""
    start = html.index('<th scope="row">SG Rurtal</th>')
    return " ".join(html[start : html.index("</tr>", start)].split())


def test_a_quota_for_2027_28_applies_there_and_not_in_2026_27(
    app, client, office, form_post, club_login, seasons
):
    hall, club = seasons["hall"], seasons["club"]
    office()
    response = set_season_quota(form_post, seasons["season_b"], club, hall, "3")
    assert response.status_code == 302
    page_b = client.get(f"{QUOTAS}?saison={seasons['season_b']}").get_data(as_text=True)
    assert "Kontingente Wintersaison 2027/28" in page_b
    assert "<td>SG Rurtal</td><td>Nordhalle</td><td>3</td>" in page_b
    page_a = client.get(f"{QUOTAS}?saison={seasons['season_a']}").get_data(as_text=True)
    assert "SG Rurtal</td>" not in page_a

    # Before the proposal, each round page says which quota its season holds.
    for round_id in (seasons["round_a"], seasons["round_b"]):
        for team, weekday in (("Herren", 0), ("Damen", 1)):
            apply(app, round_id, club, team, weekday, hall)
    round_a = f"/verwaltung/buchung/vergabe/{seasons['round_a']}"
    round_b = f"/verwaltung/buchung/vergabe/{seasons['round_b']}"
    assert quota_cell(client.get(round_a).get_data(as_text=True)).endswith(
        "<td>kein Kontingent</td>"
    )
    assert quota_cell(client.get(round_b).get_data(as_text=True)).endswith(
        "<td>3 Stunden pro Woche</td>"
    )

    # The proposal keeps to the season's quota: both units in 2026/27, one in 2027/28.
    for round_id, url in ((seasons["round_a"], round_a), (seasons["round_b"], round_b)):
        end_deadline(app, round_id)
        form_post(f"{url}/vorschlag", page=url)
    assert allocated(app, seasons["round_a"]) == 2
    assert allocated(app, seasons["round_b"]) == 1

    # A unit added by hand is checked against the season's quota too.
    with app.app_context():
        jugend = {}
        for round_id in (seasons["round_a"], seasons["round_b"]):
            apply(app, round_id, club, "Jugend", 2, hall)
            jugend[round_id] = db.session.scalar(
                select(AllocationRequest.id).where(
                    AllocationRequest.round_id == round_id, AllocationRequest.team == "Jugend"
                )
            )
    by_hand = {"resource_id": hall, "weekday": 2, "start": "18:00"}
    refused = form_post(
        f"{round_b}/halle/{hall}", {**by_hand, "request_id": jugend[seasons["round_b"]]}
    )
    assert refused.status_code == 400
    assert "höchstens 3 Stunden pro Woche" in refused.get_data(as_text=True)
    taken = form_post(
        f"{round_a}/halle/{hall}", {**by_hand, "request_id": jugend[seasons["round_a"]]}
    )
    assert taken.status_code == 302
    assert allocated(app, seasons["round_a"]) == 3

    # The pre-publish check of 2026/27 books every date: no quota there.
    check_a = client.get(f"{round_a}/pruefen").get_data(as_text=True)
    assert "höchstens 3 Stunden" not in check_a

    # A club's own series over both seasons: 4 hours a week are fine in 2026/27 only.
    form_post("/abmelden", page="/verwaltung/")
    club_login("trainer@rurtal.example")
    first, last = monday_in(5), monday_in(9) + timedelta(days=6)  # weeks 5–6 in A, 7–9 in B
    data = series_data(hall, first, last, weekdays=[0, 2], preview="1")
    page = form_post("/buchung/verein/serie/neu", data).get_data(as_text=True)
    message = (
        "nicht möglich: Ihr Verein darf Nordhalle höchstens 3 Stunden pro Woche belegen; "
        "mit dieser Serie wären es in der Woche ab {:%d.%m.%Y} 4 Stunden."
    )
    for weeks in (7, 8, 9):
        assert message.format(monday_in(weeks)) in page
    for weeks in (5, 6):
        assert message.format(monday_in(weeks)) not in page


def test_copy_forward_is_explicit_and_never_overwrites_unconfirmed(
    app, client, office, form_post, seasons
):
    hall, club = seasons["hall"], seasons["club"]
    season_a, season_b = seasons["season_a"], seasons["season_b"]
    round_b = f"/verwaltung/buchung/vergabe/{seasons['round_b']}"
    apply(app, seasons["round_b"], club, "Herren", 0, hall)
    office()
    set_season_quota(form_post, season_a, club, hall, "3")

    # Nothing carries over by itself.
    assert quota_cell(client.get(round_b).get_data(as_text=True)).endswith(
        "<td>kein Kontingent</td>"
    )
    page_b = f"{QUOTAS}?saison={season_b}"
    copy_url = f"/verwaltung/buchung/vereine/kontingente/uebernehmen?saison={season_b}"
    response = form_post(copy_url, {"copy-source_id": season_a}, page=page_b)
    assert response.status_code == 302
    text = client.get(page_b).get_data(as_text=True)
    assert "1 Kontingent aus Wintersaison 2026/27 übernommen." in text
    assert "<td>SG Rurtal</td><td>Nordhalle</td><td>3</td>" in text
    assert quota_cell(client.get(round_b).get_data(as_text=True)).endswith(
        "<td>3 Stunden pro Woche</td>"
    )

    # 2026/27 changes; copying again without confirming overwrites nothing.
    set_season_quota(form_post, season_a, club, hall, "5")
    refused = form_post(copy_url, {"copy-source_id": season_a}, page=page_b)
    assert refused.status_code == 409
    assert (
        "Nichts übernommen: Wintersaison 2027/28 hat schon abweichende Kontingente "
        "(SG Rurtal (Nordhalle)). Zum Überschreiben bitte bestätigen."
    ) in refused.get_data(as_text=True)
    assert "<td>3</td>" in client.get(page_b).get_data(as_text=True)

    confirmed = form_post(
        copy_url, {"copy-source_id": season_a, "copy-overwrite": "y"}, page=page_b
    )
    assert confirmed.status_code == 302
    assert "<td>5</td>" in client.get(page_b).get_data(as_text=True)
    assert quota_cell(client.get(round_b).get_data(as_text=True)).endswith(
        "<td>5 Stunden pro Woche</td>"
    )

    # A default quota (the club list's form) shows as "Standard" where a season has none.
    form_post(
        f"/verwaltung/buchung/vereine/{club}/kontingent",
        {"resource_id": hall, "hours": "8"},
        page="/verwaltung/buchung/vereine",
    )
    set_season_quota(form_post, season_b, club, hall, "")  # remove 2027/28's own
    assert quota_cell(client.get(round_b).get_data(as_text=True)).endswith(
        "<td>8 Stunden pro Woche (Standard)</td>"
    )
