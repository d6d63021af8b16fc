"""Saisonvergabe: a full round with three clubs and a school in two halls (one divisible)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from buchung.allocation.models import (
    Allocation,
    AllocationNote,
    AllocationRequest,
    AllocationRound,
    AllocationSkip,
)
from buchung.club_models import BookingSeries
from buchung.models import Booking
from buchung.services.rules import public_holidays
from lotse.extensions import db
from tests.buchung.allocation_helpers import (
    application,
    class_id,
    end_deadline,
    make_round,
    season_around,
    weekday_holiday,
)
from tests.buchung.conftest import CLUB_PASSWORD, series_data
from tests.conftest import csrf_token_from

pytestmark = pytest.mark.both_dbs

CLUBS = {
    "schule": ("Grundschule am Park", "sekretariat@gs-park.example"),
    "hc": ("HC Rot", "trainer@hc-rot.example"),
    "tv": ("TV Musterstadt", "trainer@tv.example"),
    "sc": ("SC Blau-Weiß", "trainer@sc-bw.example"),
}


def club_client(app, email):
    """A browser of its own, logged in as the club login ``email``."""
    client = app.test_client()
    page = client.get("/buchung/verein/anmelden").get_data(as_text=True)
    response = client.post(
        "/buchung/verein/anmelden",
        data={"email": email, "password": CLUB_PASSWORD, "csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 302
    return client


def post(client, url, data=None, page=None):
    token = csrf_token_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token})


@pytest.fixture
def scenario(app, make_resource, make_hall, make_club):
    """Two halls (Nordhalle; Dreifachhalle with three parts), four applicants, one round."""
    holiday = weekday_holiday(app)
    first, last = season_around(holiday)
    north = make_resource("Nordhalle", kind="hall", hours=("08:00", "22:00"))
    triple = make_hall(hours=("08:00", "22:00"))
    clubs = {key: make_club(name, email) for key, (name, email) in CLUBS.items()}
    round_id = make_round(app, [north, triple["hall"]], first, last)
    with app.app_context():
        from buchung.allocation.models import ApplicantClass, PriorityClass

        school_class = db.session.scalar(
            select(PriorityClass).where(PriorityClass.name == "Schule")
        )
        db.session.add(
            ApplicantClass(club_id=clubs["schule"]["club"], priority_class_id=school_class.id)
        )
        db.session.commit()
    return {
        "holiday": holiday,
        "first": first,
        "last": last,
        "north": north,
        "triple": triple,
        "clubs": clubs,
        "round": round_id,
    }


def apply_all(app, s):
    """Every applicant applies through the form; returns the clients by key."""
    d = s["holiday"].weekday()  # the contested weekday carries the holiday
    e = (d - 1) % 7
    north, hall, part_b = s["north"], s["triple"]["hall"], s["triple"]["B"]
    school, competition, training = (class_id(app, n) for n in ("Schule", "Wettkampf", "Training"))
    forms = {
        "schule": [application("Klasse 4a", school, [hall], ([d], "16:00"))],
        "hc": [
            application(
                "Handball A-Jugend",
                competition,
                [hall],
                ([d], "16:00"),
                ([e], "18:00"),
                minutes=120,
            )
        ],
        "tv": [
            application("Herren", training, [north], ([d, e], "18:00"), sessions=2),
        ],
        "sc": [
            application(
                "Damen", training, [north], ([d, e], "18:00"), ([d, e], "19:30"), sessions=2
            ),
            application("Mädchen", training, [part_b], ([d], "16:30"), ([e], "16:00")),
        ],
    }
    clients = {}
    for key, applications in forms.items():
        clients[key] = club_client(app, CLUBS[key][1])
        url = f"/buchung/verein/vergabe/{s['round']}/antrag"
        for data in applications:
            response = post(clients[key], url, data)
            assert response.status_code == 302, response.get_data(as_text=True)
    return clients, d, e


def allocations_by_team(app, round_id):
    with app.app_context():
        rows = db.session.execute(
            select(
                AllocationRequest.team,
                Allocation.resource_id,
                Allocation.weekday,
                Allocation.start_minute,
                Allocation.choice,
            )
            .join(Allocation)
            .where(AllocationRequest.round_id == round_id)
            .order_by(AllocationRequest.team, Allocation.weekday)
        ).all()
    return [tuple(r) for r in rows]


def test_full_round(app, client, office, scenario, mailbox):
    s = scenario
    clients, d, e = apply_all(app, s)
    north, hall, part_b = s["north"], s["triple"]["hall"], s["triple"]["B"]

    # The application form offers a school only its fixed class.
    page = (
        clients["schule"].get(f"/buchung/verein/vergabe/{s['round']}/antrag").get_data(as_text=True)
    )
    assert "Schule" in page and "Training" not in page

    # Before the deadline the office cannot allocate.
    office()
    round_url = f"/verwaltung/buchung/vergabe/{s['round']}"
    post(client, f"{round_url}/vorschlag", page=round_url)
    assert allocations_by_team(app, s["round"]) == []

    # Deadline enforced: a late application is refused and nothing is stored.
    end_deadline(app, s["round"])
    late = application("Senioren", class_id(app, "Training"), [north], ([d], "10:00"))
    response = post(
        clients["tv"],
        f"/buchung/verein/vergabe/{s['round']}/antrag",
        late,
        page="/buchung/verein/vergabe/",
    )
    assert response.status_code == 303
    assert "Antragsfrist dieser Runde ist abgelaufen" in clients["tv"].get(
        "/buchung/verein/vergabe/"
    ).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AllocationRequest)) == 5

    # The office may correct a claimed class per application (and puts it back here).
    with app.app_context():
        hc_request = db.session.scalar(
            select(AllocationRequest.id).where(AllocationRequest.team == "Handball A-Jugend")
        )
    page = client.get(round_url).get_data(as_text=True)
    assert f'id="class-{hc_request}"' in page
    change = f"/verwaltung/buchung/vergabe/antrag/{hc_request}/klasse"
    post(client, change, {"priority_class_id": class_id(app, "Training")}, page=round_url)
    with app.app_context():
        assert db.session.get(AllocationRequest, hc_request).priority_class.name == "Training"
    post(client, change, {"priority_class_id": class_id(app, "Wettkampf")}, page=round_url)

    # The proposal.
    assert post(client, f"{round_url}/vorschlag", page=round_url).status_code == 302
    first_run = allocations_by_team(app, s["round"])
    post(client, f"{round_url}/vorschlag", page=round_url)
    assert allocations_by_team(app, s["round"]) == first_run  # deterministic

    got = {}
    for team, resource, weekday, start, choice in first_run:
        got.setdefault(team, []).append((resource, weekday, start, choice))
    # Priority order: the school gets the whole hall first; the competition team, which
    # wanted the same time, gets its second choice.
    assert got["Klasse 4a"] == [(hall, d, 16 * 60, 1)]
    assert got["Handball A-Jugend"] == [(hall, e, 18 * 60, 2)]
    # A part wished during the school's whole-hall time goes to the second choice.
    assert got["Mädchen"] == [(part_b, e, 16 * 60, 2)]
    # Fair between equal-priority clubs: each gets one of the two contested first-choice
    # evenings; SC's second session comes from its second choice.
    herren, damen = got["Herren"], got["Damen"]
    assert len(herren) == 1 and herren[0][2] == 18 * 60 and herren[0][3] == 1
    first_choice_damen = [a for a in damen if a[3] == 1]
    assert len(first_choice_damen) == 1
    assert {herren[0][1], first_choice_damen[0][1]} == {d, e}
    assert [a for a in damen if a[3] == 2] == [(north, herren[0][1], 19 * 60 + 30, 2)]

    # The proposal explains itself.
    with app.app_context():
        reasons = {
            (r.team, n.reason, n.detail)
            for n, r in db.session.execute(
                select(AllocationNote, AllocationRequest).join(AllocationRequest)
            )
        }
    assert ("Handball A-Jugend", "higher_class", "Schule") in reasons
    assert ("Mädchen", "higher_class", "Schule") in reasons
    assert {t for t, reason, _d in reasons if reason == "same_class"} == {"Herren", "Damen"}
    page = client.get(round_url).get_data(as_text=True)
    assert "Erstwunsch" in page and "Wunschhalle 1" in page

    # The office's grid shows wishes and marks the conflicts.
    grid = client.get(f"{round_url}/halle/{hall}").get_data(as_text=True)
    assert 'class="conflict"' in grid and "Klasse 4a" in grid and "Handball A-Jugend" in grid

    # Publish: series skip holidays, every rejected date has its reason, one mail each.
    mails_before = len(mailbox.messages())
    assert post(client, f"{round_url}/veroeffentlichen", page=round_url).status_code == 302
    with app.app_context():
        holidays = public_holidays(s["first"], s["last"])
        series = db.session.scalars(select(BookingSeries)).all()
        assert len(series) == len(first_run)
        for allocation in db.session.scalars(select(Allocation)):
            days = {
                b.starts_at.date()
                for b in db.session.scalars(
                    select(Booking).where(Booking.series_id == allocation.series_id)
                )
            }
            skipped = {k.day: k.reason for k in allocation.skips}
            expected_off = {h for h in holidays if h.weekday() == allocation.weekday}
            assert set(skipped) == expected_off
            assert all(skipped.values())
            assert not days & expected_off
            assert len(days) + len(skipped) == 4
        assert s["holiday"] in {k.day for k in db.session.scalars(select(AllocationSkip))}
        booked = db.session.scalar(select(func.count()).select_from(Booking))
    messages = mailbox.messages()[mails_before:]
    recipients = sorted(m["To"] for m in messages)
    assert recipients == sorted(email for _n, email in CLUBS.values())
    school_mail = next(m for m in messages if m["To"] == CLUBS["schule"][1])
    assert "Klasse 4a" in mailbox.text(school_mail)
    hc_mail = mailbox.text(next(m for m in messages if m["To"] == CLUBS["hc"][1]))
    assert "höhere Prioritätsklasse (Schule)" in hc_mail

    # Publishing twice creates nothing twice and mails nobody again.
    post(client, f"{round_url}/veroeffentlichen", page=round_url)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BookingSeries)) == len(series)
        assert db.session.scalar(select(func.count()).select_from(Booking)) == booked
    assert len(mailbox.messages()) == mails_before + len(CLUBS)

    # Transparency: the applicant sees why a wish was not met.
    result = (
        clients["hc"].get(f"/buchung/verein/vergabe/{s['round']}/ergebnis").get_data(as_text=True)
    )
    assert "vergeben an eine höhere Prioritätsklasse (Schule)" in result
    assert clients["tv"].get(f"/buchung/verein/vergabe/{s['round']}/ergebnis").status_code == 200

    # The public Belegungsplan shows the result (no personal data: "belegt").
    week = s["first"].isoformat()
    plan = client.get(f"/buchung/{north}/belegungsplan?woche={week}").get_data(as_text=True)
    assert "18:00–19:30" in plan and "belegt" in plan


def test_unpublish_removes_exactly_the_created_series(app, client, office, scenario):
    s = scenario
    apply_all(app, s)
    end_deadline(app, s["round"])
    # A club's own series in another hall slot, booked outside the round, must survive.
    own = series_data(
        s["north"], s["first"] + timedelta(days=5), s["last"], start="10:00", end="11:00"
    )
    tv = club_client(app, CLUBS["tv"][1])
    assert post(tv, "/buchung/verein/serie/neu", {**own, "book_free": "1"}).status_code == 302
    with app.app_context():
        own_series = db.session.scalar(select(BookingSeries.id))
        own_bookings = db.session.scalar(
            select(func.count()).select_from(Booking).where(Booking.series_id == own_series)
        )
    office()
    round_url = f"/verwaltung/buchung/vergabe/{s['round']}"
    post(client, f"{round_url}/vorschlag", page=round_url)
    post(client, f"{round_url}/veroeffentlichen", page=round_url)
    with app.app_context():
        created = db.session.scalars(
            select(BookingSeries).where(BookingSeries.id != own_series)
        ).all()
        assert created

    # The confirmation names every series it will remove.
    page = client.get(f"{round_url}/zuruecknehmen").get_data(as_text=True)
    for name in ("Klasse 4a", "Handball A-Jugend", "Herren", "Damen", "Mädchen", "SC Blau-Weiß"):
        assert name in page
    # Without the confirmation nothing is removed.
    response = post(client, f"{round_url}/zuruecknehmen")
    assert response.status_code == 400
    assert "Bitte bestätigen Sie" in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(BookingSeries)) == len(created) + 1
        )

    listed = re.search(r'name="series_ids" type="hidden" value="([^"]*)"', page).group(1)
    confirmed = {"confirm": "y", "series_ids": listed}
    assert post(client, f"{round_url}/zuruecknehmen", confirmed).status_code == 302
    with app.app_context():
        assert db.session.scalars(select(BookingSeries.id)).all() == [own_series]
        assert db.session.scalar(select(func.count()).select_from(Booking)) == own_bookings
        round_ = db.session.get(AllocationRound, s["round"])
        assert not round_.published
        assert db.session.scalar(select(func.count()).select_from(Allocation)) == len(created)
        assert db.session.scalar(select(func.count()).select_from(AllocationSkip)) == 0


def test_office_adjusts_by_hand_and_refuses_overlaps(app, client, office, scenario):
    s = scenario
    apply_all(app, s)
    end_deadline(app, s["round"])
    office()
    round_url = f"/verwaltung/buchung/vergabe/{s['round']}"
    post(client, f"{round_url}/vorschlag", page=round_url)
    with app.app_context():
        herren = db.session.scalar(
            select(AllocationRequest).where(AllocationRequest.team == "Herren")
        )
        herren_id = herren.id
        taken_day = herren.allocations[0].weekday
        damen = db.session.scalar(
            select(AllocationRequest).where(AllocationRequest.team == "Damen")
        )
        other_day = next(a.weekday for a in damen.allocations if a.start_minute == 18 * 60)
        assert other_day != taken_day
    grid_url = f"{round_url}/halle/{s['north']}"
    clash = {
        "request_id": herren_id,
        "resource_id": s["north"],
        "weekday": other_day,
        "start": "18:30",
    }
    response = post(client, grid_url, clash)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "überschneidet sich" in text and 'value="18:30"' in text
    free = {**clash, "start": "09:00"}
    assert post(client, grid_url, free).status_code == 302
    with app.app_context():
        allocations = db.session.scalars(
            select(Allocation).where(Allocation.request_id == herren_id)
        ).all()
        assert {(a.weekday, a.start_minute, a.choice) for a in allocations} >= {(other_day, 540, 0)}
        by_hand = next(a.id for a in allocations if a.choice == 0)
    assert "Vom Buchungsbüro von Hand zugeteilt." in client.get(round_url).get_data(as_text=True)
    # The office takes it back on the grid.
    post(client, f"/verwaltung/buchung/vergabe/zuteilung/{by_hand}/entfernen", page=grid_url)
    with app.app_context():
        assert db.session.get(Allocation, by_hand) is None


def test_club_pages_need_a_club_login_and_office_pages_staff(
    app, client, scenario, make_user, auth
):
    assert client.get("/buchung/verein/vergabe/").status_code == 302
    make_user(email="clerk@town.example", roles=("clerk",))
    auth.login()
    assert client.get("/verwaltung/buchung/vergabe/").status_code == 403


def test_failed_publishing_shows_the_error_keeps_nothing_and_can_be_retried(
    app, client, office, scenario, monkeypatch
):
    s = scenario
    apply_all(app, s)
    end_deadline(app, s["round"])
    office()
    round_url = f"/verwaltung/buchung/vergabe/{s['round']}"
    post(client, f"{round_url}/vorschlag", page=round_url)
    from buchung.services import series as series_service

    book_free, calls = series_service.book_free, []

    def fail_on_the_second(series, **kw):
        calls.append(series)
        if len(calls) == 2:
            raise RuntimeError("Verbindung zur Datenbank verloren")
        return book_free(series, **kw)

    monkeypatch.setattr(series_service, "book_free", fail_on_the_second)
    post(client, f"{round_url}/veroeffentlichen", page=round_url)
    page = client.get(round_url).get_data(as_text=True)
    assert "Veröffentlichen ist fehlgeschlagen" in page
    assert "Verbindung zur Datenbank verloren" in page
    assert "Veröffentlichen und Serien buchen" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BookingSeries)) == 0
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 0

    monkeypatch.setattr(series_service, "book_free", book_free)
    post(client, f"{round_url}/veroeffentlichen", page=round_url)
    page = client.get(round_url).get_data(as_text=True)
    assert "Veröffentlicht am" in page and "fehlgeschlagen" not in page
    with app.app_context():
        allocations = db.session.scalar(select(func.count()).select_from(Allocation))
        assert db.session.scalar(select(func.count()).select_from(BookingSeries)) == allocations
