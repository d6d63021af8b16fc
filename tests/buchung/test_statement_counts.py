"""The booking lists cost a fixed number of SQL statements however many bookings they show.

Each list is loaded with two bookings and again with twelve, on resources with parts; an
N+1 (one more query per booking for its resource, series or club …) shows up as a
difference, and the total must stay within a bound that does not grow with the list.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from lotse.models import utcnow
from tests.buchung.conftest import local, next_weekday
from tests.sql_counter import statements_for

pytestmark = pytest.mark.both_dbs

# url template → most statements one request may send (a logged-in office costs a few).
LISTS = {
    "/buchung/": 6,
    "/buchung/{hall}?woche={day}": 10,  # one more: the fees in force (issue 25)
    "/buchung/{hall}/belegungsplan?woche={day}": 8,
    "/verwaltung/buchung/": 8,
    "/verwaltung/buchung/kalender?datum={day}": 9,
}


def test_booking_lists_cost_the_same_for_two_and_twelve_bookings(
    client, app, make_hall, book, office
):
    hall = make_hall()
    office()
    day = next_weekday(2)
    urls = [url.format(hall=hall["hall"], day=day.isoformat()) for url in LISTS]
    parts = [hall["A"], hall["B"], hall["C"]]

    def add(first: int, n: int) -> None:
        for i in range(first, first + n):
            hour = 6 + i
            book(parts[i % 3], day, f"{hour:02d}:00", f"{hour:02d}:30", email=f"g{i}@example.org")

    def counts() -> dict[str, int]:
        return {url: len(statements_for(client, app, url)) for url in urls}

    add(0, 2)
    few = counts()
    add(2, 10)
    many = counts()
    assert many == few
    limits = dict(zip(urls, LISTS.values(), strict=True))
    over = {url: n for url, n in many.items() if n > limits[url]}
    assert not over, over


# --- every list, grown in halls, clubs, bookings, closures, seasons, fees -------------


@pytest.fixture
def grow(app, make_hall, make_club, make_schedule):
    """Add ``n`` of everything the booking lists show: a hall with three parts, a guest
    booking on it, a club (with a login, its billing group, a quota on the hall) and its
    booking on the first hall, a closure, a season, a waiting-list entry, a tariff, a fee
    group, a partner key; then bill the new bookings (one bill per club and guest)."""
    from buchung.api.keys import create_key
    from buchung.club_models import Club, ClubQuota, Season, WaitlistEntry
    from buchung.fees.billing import bill_bookings
    from buchung.fees.models import ClubBilling, FeeGroup, FeeSchedule, Tariff
    from buchung.models import Closure, Resource
    from buchung.services.booking import Contact, create_booking
    from lotse.extensions import db

    day = next_weekday(2)
    state = {"done": 0, "halls": []}

    def add(n: int) -> None:
        first = state["done"]
        state["done"] += n
        for i in range(first, first + n):
            hall = make_hall()
            state["halls"].append(hall)
            club = make_club(name=f"Verein {i}", email=f"trainer{i}@club.example")
            if not i:
                state["schedule"] = make_schedule([])
            with app.app_context():
                parts = [db.session.get(Resource, hall[p]) for p in "AB"]
                first_hall = db.session.get(Resource, state["halls"][0]["B"])
                hour = 6 + i
                bookings = [
                    create_booking(
                        parts[0],
                        local(day, "10:00"),
                        local(day, "11:00"),
                        purpose="Training",
                        contact=Contact("Gabi Gast", f"g{i}@example.org", "0123"),
                    ),
                    create_booking(
                        first_hall,
                        local(day, f"{hour:02d}:00"),
                        local(day, f"{hour:02d}:30"),
                        purpose="Training",
                        club=db.session.get(Club, club["club"]),
                    ),
                ]
                key, _raw = create_key(f"Partner {i}", f"p{i}@example.org", [hall["hall"]])
                db.session.add_all(
                    [
                        ClubBilling(club_id=club["club"], group_key=f"g{i}"),
                        FeeGroup(key=f"g{i}", name=f"Gruppe {i}"),
                        Tariff(
                            schedule=db.session.get(FeeSchedule, state["schedule"]),
                            resource_id=hall["hall"],
                            group_key="private",
                            unit="hour",
                            amount_cents=1000 + i,
                        ),
                        Tariff(
                            schedule=db.session.get(FeeSchedule, state["schedule"]),
                            resource_id=state["halls"][0]["hall"],
                            group_key=f"g{i}",
                            unit="hour",
                            amount_cents=500 + i,
                        ),
                        ClubQuota(club_id=club["club"], resource_id=hall["hall"], max_minutes=600),
                        Closure(
                            resource_id=hall["hall"],
                            title=f"Renovierung {i}",
                            starts_at=local(day + timedelta(days=1), "00:00"),
                            ends_at=local(day + timedelta(days=2), "00:00"),
                        ),
                        Season(
                            name=f"Saison {i}",
                            first_day=day + timedelta(days=30 * i),
                            last_day=day + timedelta(days=30 * i + 20),
                        ),
                        WaitlistEntry(
                            resource_id=hall["A"],
                            starts_at=local(day, "10:00"),
                            ends_at=local(day, "11:00"),
                            name=f"Wanda {i}",
                            email=f"w{i}@example.org",
                        ),
                    ]
                )
                db.session.flush()
                bill_bookings(bookings, day.replace(day=1), day)
                db.session.commit()

    add.state = state
    add.day = day
    return add


GROWN_PUBLIC = {
    "/buchung/": 2,
    "/api/v1/resources": 5,
    "/api/v1/plan?from={day}&to={day}": 4,
    "/buchung/{hall}?woche={day}": 6,
    "/buchung/{hall}/belegungsplan?woche={day}": 5,
    "/buchung/kalender/raum/{hall}.ics": 3,
}
# url → most statements; the booking office's login costs two or three of them.
GROWN_OFFICE = {
    "/verwaltung/buchung/": 6,
    "/verwaltung/buchung/kalender?datum={day}": 6,
    "/verwaltung/buchung/hausmeisterei?datum={day}": 6,
    "/verwaltung/buchung/raeume": 5,
    "/verwaltung/buchung/raeume/{hall}/belegungsplan.csv": 7,
    "/verwaltung/buchung/buchungen/neu": 5,
    "/verwaltung/buchung/sperrzeiten": 4,
    "/verwaltung/buchung/saisons": 5,
    "/verwaltung/buchung/vereine": 8,
    "/verwaltung/buchung/vereine/kontingente": 11,
    "/verwaltung/buchung/warteliste": 6,
    "/verwaltung/buchung/nutzung?von={today}&bis={day}": 6,
    "/verwaltung/buchung/nutzung.csv?von={today}&bis={day}": 5,
    "/verwaltung/buchung/api-schluessel/": 6,
    "/verwaltung/buchung/gebuehren/": 7,
    "/verwaltung/buchung/gebuehren/gruppen": 4,
    "/verwaltung/buchung/gebuehren/satzungen": 8,
    "/verwaltung/buchung/gebuehren/satzungen/{schedule}": 10,
    "/verwaltung/buchung/gebuehren/mahnungen": 4,
    "/verwaltung/buchung/gebuehren/sollstellung.csv": 4,
}


def test_every_list_costs_the_same_for_two_and_twelve_of_everything(client, app, office, grow):
    """Public and office lists grown in halls, clubs, bookings, closures, seasons, fees …"""
    from datetime import date

    grow(2)
    values = {
        "day": grow.day.isoformat(),
        "today": date.today().isoformat(),
        "hall": grow.state["halls"][0]["hall"],
        "schedule": grow.state["schedule"],
    }
    public = {url.format(**values): n for url, n in GROWN_PUBLIC.items()}
    staff = {url.format(**values): n for url, n in GROWN_OFFICE.items()}

    def counts(urls) -> dict[str, int]:
        return {url: len(statements_for(client, app, url)) for url in urls}

    few = counts(public)
    office()
    few |= counts(staff)
    grow(10)
    many = counts(staff)
    client.delete_cookie("session")
    many |= counts(public)
    assert many == few
    limits = public | staff
    over = {url: n for url, n in many.items() if n > limits[url]}
    assert not over, over


def test_a_clubs_pages_cost_the_same_for_two_and_twelve_dates(
    client, app, auth, office, make_hall, make_club, make_schedule, book_series
):
    """A club's home, series page and calendars, its bills and its logins, the season's
    plan and the office's view of the club's fees: a series of 2 weekly dates (each billed
    on its own, 2 logins) against one of 12 (12 bills, 12 logins)."""
    from sqlalchemy import func, select

    from buchung.club_models import BookingSeries, Club, ClubMember, Season
    from buchung.fees.billing import bill_bookings
    from buchung.fees.models import Bill
    from buchung.models import Booking
    from lotse.extensions import db

    hall = make_hall()
    club = make_club()
    make_schedule([(hall["hall"], "club", "hour", 1200)])
    monday = next_weekday(0)
    with app.app_context():
        feed = db.session.get(Club, club["club"]).new_feed_token()
        season = Season(name="Winter", first_day=monday, last_day=monday + timedelta(weeks=12))
        db.session.add(season)
        db.session.commit()
        season_id = season.id
    office()
    logins = [1]

    def series(weeks: int, start: str, end: str) -> int:
        last = monday + timedelta(weeks=weeks - 1)
        response = book_series(hall["A"], monday, last, start=start, end=end)
        assert response.status_code == 302, response.status_code
        with app.app_context():
            series_id = db.session.scalar(select(func.max(BookingSeries.id)))
            bookings = db.session.scalars(select(Booking).where(Booking.series_id == series_id))
            for booking in bookings:
                bill_bookings([booking], monday.replace(day=1), last)
            for n in range(logins[0], weeks):
                db.session.add(
                    ClubMember(
                        club_id=club["club"],
                        name=f"Trainer {n}",
                        email=f"t{n}@tv.example",
                        password_hash="-",
                        confirmed_at=utcnow(),
                    )
                )
            db.session.commit()
        logins[0] = weeks
        return series_id

    club_urls = {
        "/buchung/verein/": 3,
        "/buchung/verein/serie/{series}": 10,
        "/buchung/verein/serie/{series}/termine.ics": 4,
        f"/buchung/kalender/verein/{feed}.ics": 3,
        f"/buchung/{hall['hall']}/belegungsplan/saison/{season_id}": 7,
        "/buchung/verein/gebuehren/": 3,
        "/buchung/verein/logins": 2,
    }
    office_urls = {
        f"/verwaltung/buchung/gebuehren/?verein={club['club']}": 7,
        f"/verwaltung/buchung/gebuehren/verein/{club['club']}": 6,
    }
    urls = club_urls | office_urls

    def counts(series_id: int) -> dict[str, int]:
        found = {
            url: len(statements_for(client, app, url.format(series=series_id))) for url in club_urls
        }
        client.delete_cookie("session")  # the club leaves, the office signs in
        auth.login("buero@town.example")
        return found | {url: len(statements_for(client, app, url)) for url in office_urls}

    few = counts(series(2, "18:00", "19:00"))
    many = counts(series(12, "19:00", "20:00"))
    with app.app_context():  # what the pages list did grow
        assert db.session.scalar(select(func.count()).select_from(Bill)) == 14
        assert db.session.scalar(select(func.count()).select_from(ClubMember)) == 12
    assert many == few
    over = {url: n for url, n in many.items() if n > urls[url]}
    assert not over, over


def test_a_rounds_pages_cost_the_same_for_two_and_twelve_applications(
    client, app, make_resource, make_club, office
):
    """A Vergaberunde's office pages with 2 and then 12 applications of as many clubs,
    each allocated by the proposal (allocations, notes, skips)."""
    from sqlalchemy import func, select

    from buchung.allocation.models import Allocation, AllocationRound, PriorityClass
    from buchung.allocation.proposal import propose
    from buchung.allocation.services import create_request
    from buchung.club_models import Club
    from lotse.extensions import db
    from tests.buchung.allocation_helpers import make_round

    hall = make_resource("Nordhalle", kind="hall", hours=("08:00", "22:00"))
    first = next_weekday(0, weeks_ahead=4)
    round_id = make_round(app, [hall], first, first + timedelta(weeks=4))
    done = [0]

    def add(n: int) -> None:
        clubs = [
            make_club(name=f"Verein {i}", email=f"trainer{i}@club.example")["club"]
            for i in range(done[0], done[0] + n)
        ]
        with app.app_context():
            round_ = db.session.get(AllocationRound, round_id)
            training = db.session.scalar(
                select(PriorityClass).where(PriorityClass.name == "Training")
            )
            for i, club_id in enumerate(clubs, start=done[0]):
                create_request(
                    round_,
                    db.session.get(Club, club_id),
                    team=f"Team {i}",
                    priority_class=training,
                    sessions_per_week=1,
                    duration_minutes=90,
                    first=([i % 5], (8 + 2 * (i // 5)) * 60),
                    second=([(i + 1) % 5], 20 * 60),
                    hall_ids=[hall],
                )
            propose(round_)
            db.session.commit()
            assert db.session.scalar(select(func.count()).select_from(Allocation)) == done[0] + n
        done[0] += n

    base = f"/verwaltung/buchung/vergabe/{round_id}"
    urls = {
        "/verwaltung/buchung/vergabe/": 14,
        base: 11,
        f"{base}/halle/{hall}": 11,
        f"{base}/pruefen": 15,
        f"{base}/zahlen": 16,
        f"{base}/zahlen.csv": 16,
        f"{base}/zahlen.csv?je=antragsteller": 15,
    }

    def counts() -> dict[str, int]:
        return {url: len(statements_for(client, app, url)) for url in urls}

    add(2)
    office()
    few = counts()
    add(10)
    many = counts()
    assert many == few
    over = {url: n for url, n in many.items() if n > urls[url]}
    assert not over, over


def test_what_closures_hit_costs_the_same_for_two_and_twelve(client, app, make_hall, book, office):
    """The office's "which bookings do these closures hit" page (after an import): 2 and
    then 12 closures of the hall or a part, each hitting a booking."""
    from buchung.models import Closure
    from lotse.extensions import db

    hall = make_hall()
    office()
    day = next_weekday(3)
    ids: list[int] = []

    def add(first: int, n: int) -> None:
        for i in range(first, first + n):
            start, end = f"{6 + i:02d}:00", f"{6 + i:02d}:30"
            part = hall["ABC"[i % 3]]
            book(part, day, start, end, email=f"g{i}@example.org")
            with app.app_context():
                closure = Closure(
                    resource_id=hall["hall"] if i % 2 else part,
                    title=f"Wartung {i}",
                    starts_at=local(day, start),
                    ends_at=local(day, end),
                )
                db.session.add(closure)
                db.session.commit()
                ids.append(closure.id)

    def count(hit: int) -> int:
        url = f"/verwaltung/buchung/sperrzeiten/wirkung?ids={','.join(map(str, ids))}"
        assert f"{hit} Buchungen sind betroffen" in client.get(url).get_data(as_text=True)
        return len(statements_for(client, app, url))

    add(0, 2)
    few = count(2)
    add(2, 10)
    many = count(12)
    assert many == few <= 7
