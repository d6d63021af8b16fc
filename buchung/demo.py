"""Demo data for ``flask lotse seed-demo``: Musterstadt's halls and rooms, some bookings."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from buchung.clock import local_moment, local_today
from buchung.club_models import BookingSeries, Club, ClubMember, Season
from buchung.models import Access, Closure, OpeningHours, Resource, ResourceKind
from buchung.services.booking import (
    BookingRefused,
    Contact,
    confirm_hold,
    create_booking,
)
from buchung.services.series import book_free
from lotse.extensions import db
from lotse.hooks import DemoLogin
from lotse.models import Department, User, utcnow
from lotse.urls import public_url


def _hours(weekdays: range, opens: str, closes: str) -> list[OpeningHours]:
    def minute(text: str) -> int:
        return int(text[:2]) * 60 + int(text[3:])

    return [
        OpeningHours(weekday=d, opens_minute=minute(opens), closes_minute=minute(closes))
        for d in weekdays
    ]


def seed() -> list[DemoLogin]:
    """Dreifachhalle (Drittel A/B/C), Gymnastikhalle, two Rathaus rooms, bookings, a closure,
    clubs with their series and logins (returned for ``seed-demo`` to print)."""
    sport = db.session.scalar(select(Department).where(Department.name == "Sport- und Bäderamt"))
    office = db.session.scalar(select(User).where(User.email == "buchung@musterstadt.example"))
    school = "Schulzentrum Kreuzau, Windener Weg 7, 52372 Musterstadt"
    town_hall = "Rathaus, Bahnhofstraße 7, 52372 Musterstadt"
    hall = Resource(
        name="Dreifachhalle Schulzentrum",
        kind=ResourceKind.HALL,
        department=sport,
        description="Teilbare Dreifachhalle (45 × 27 m) mit Tribüne; jedes Drittel einzeln buchbar.",
        capacity=400,
        equipment="Basketballkörbe, Handballtore, Volleyballnetze, Tribüne, Lautsprecheranlage",
        accessibility="Stufenloser Zugang über den Haupteingang, barrierefreie Umkleide und WC.",
        address=school,
        lat=50.7462,
        lon=6.4894,
        slot_minutes=30,
        min_minutes=60,
        max_minutes=360,
        horizon_days=180,
        needs_approval=True,
        opening_hours=_hours(range(0, 5), "16:00", "22:00") + _hours(range(5, 7), "08:00", "20:00"),
    )
    thirds = [
        Resource(
            name=f"Drittel {letter}",
            kind=ResourceKind.HALL,
            department=sport,
            capacity=60,
            description=f"Hallendrittel {letter} (15 × 27 m).",
            equipment="Basketballkörbe, Handballtore",
            parent=hall,
        )
        for letter in "ABC"
    ]
    gym = Resource(
        name="Gymnastikhalle",
        kind=ResourceKind.GYM,
        department=sport,
        description="Gymnastikraum mit Spiegelwand und Schwingboden.",
        capacity=30,
        equipment="Spiegelwand, Matten, Musikanlage",
        accessibility="Erdgeschoss, stufenlos erreichbar.",
        address=school,
        lat=50.7465,
        lon=6.4899,
        min_minutes=60,
        max_minutes=180,
        opening_hours=_hours(range(0, 7), "08:00", "22:00"),
    )
    council_room = Resource(
        name="Sitzungssaal Rathaus",
        kind=ResourceKind.MEETING_ROOM,
        department=sport,
        description="Großer Sitzungssaal im 1. Obergeschoss.",
        capacity=40,
        equipment="Beamer, Leinwand, Mikrofonanlage, Induktionsschleife",
        accessibility="Aufzug vorhanden, Induktionsschleife für Hörgeräte.",
        address=town_hall,
        lat=50.7478,
        lon=6.4921,
        slot_minutes=30,
        min_minutes=30,
        max_minutes=480,
        horizon_days=90,
        access=Access.PUBLIC,
        needs_approval=True,
        opening_hours=_hours(range(0, 5), "08:00", "21:00"),
    )
    meeting_room = Resource(
        name="Besprechungsraum 2.07 Rathaus",
        kind=ResourceKind.MEETING_ROOM,
        department=sport,
        description="Kleiner Besprechungsraum im 2. Obergeschoss.",
        capacity=8,
        equipment="Bildschirm, Whiteboard",
        accessibility="Aufzug vorhanden.",
        address=town_hall,
        lat=50.7478,
        lon=6.4921,
        min_minutes=30,
        max_minutes=240,
        horizon_days=60,
        opening_hours=_hours(range(0, 5), "08:00", "18:00"),
    )
    db.session.add_all([hall, *thirds, gym, council_room, meeting_room])
    today = local_today()
    next_monday = today + timedelta(days=7 - today.weekday())
    cleaning = next_monday + timedelta(weeks=2)  # Monday and Tuesday, whatever day today is
    db.session.add(
        Closure(
            title="Hallenreinigung",
            resource=hall,
            starts_at=local_moment(cleaning, 0),
            ends_at=local_moment(cleaning + timedelta(days=2), 0),
        )
    )
    db.session.flush()

    clubs = _clubs()
    staff_bookings = [
        (thirds[0], 0, 18 * 60, 20 * 60, "Training Handball-Jugend", "TV Musterstadt 1890"),
        (thirds[1], 0, 18 * 60, 20 * 60, "Basketball Herren", "BC Rur"),
        (hall, 5, 10 * 60, 14 * 60, "Hallenturnier", "SV Kreuzau"),
        (gym, 2, 19 * 60, 20 * 60 + 30, "Rückengymnastik", "Frauengymnastik Musterstadt"),
        (council_room, 3, 18 * 60, 21 * 60, "Bürgerversammlung", "Ortsvorsteher"),
    ]
    for resource, weekday, start, end, purpose, who in staff_bookings:
        day = next_monday + timedelta(days=weekday)
        create_booking(
            resource,
            local_moment(day, start),
            local_moment(day, end),
            purpose=purpose,
            contact=Contact(who, "", "02422 0000-0"),
            staff=office,
            club=clubs.get(who),
        )
    # A guest's request, confirmed by e-mail, waiting for the booking office.
    for offset in range(1, 8):
        day = next_monday + timedelta(days=offset)
        try:
            guest_request = create_booking(
                thirds[2],
                local_moment(day, 17 * 60),
                local_moment(day, 19 * 60),
                purpose="Kindergeburtstag mit Ballspielen",
                attendees=20,
                customer_group="private",
                contact=Contact("Maria Muster", "maria.muster@example.org", "0151 0000000"),
            )
        except BookingRefused:
            continue
        confirm_hold(guest_request)
        break
    db.session.flush()
    return _seed_series(clubs, thirds, next_monday + timedelta(weeks=1))


def _clubs() -> dict[str, Club]:
    """Two approved clubs and one awaiting approval, by name."""
    clubs = [
        Club(
            name="TV Musterstadt 1890",
            register_number="VR 1890",
            contact_persons="Tina Trainer, 02422 1890",
            approved_at=utcnow(),
        ),
        Club(
            name="BC Rur",
            register_number="VR 412",
            contact_persons="Bernd Korb, 02422 4120",
            approved_at=utcnow(),
        ),
        Club(name="SV Kreuzau", register_number="VR 77", contact_persons="Olaf Obmann"),
    ]
    db.session.add_all(clubs)
    return {club.name: club for club in clubs}


def _seed_series(clubs: dict[str, Club], thirds: list[Resource], first_monday) -> list[DemoLogin]:
    """A season with a twelve-week training series for each approved club, and their logins."""
    season = Season(
        name="Hallensaison (Demo)",
        first_day=first_monday,
        last_day=first_monday + timedelta(weeks=26),
    )
    trainings = [
        ("TV Musterstadt 1890", thirds[0], "0,3", 17 * 60, 18 * 60, "Kinderturnen"),
        # Wednesdays late: the browser journeys book Monday evenings and Drittel B until 20:30.
        ("BC Rur", thirds[1], "2", 20 * 60 + 30, 22 * 60, "Basketball Herren"),
    ]
    for name, third, weekdays, start, end, purpose in trainings:
        book_free(
            BookingSeries(
                club=clubs[name],
                season=season,
                resource=third,
                weekdays=weekdays,
                start_minute=start,
                end_minute=end,
                every_weeks=1,
                first_day=first_monday,
                last_day=first_monday + timedelta(weeks=12),
                purpose=purpose,
            )
        )
    page = public_url("buchung_club.login")
    logins = []
    for name, email, person in (
        ("TV Musterstadt 1890", "verein@tv-musterstadt.example", "Tina Trainer"),
        ("BC Rur", "verein@bc-rur.example", "Bernd Korb"),
    ):
        password = secrets.token_urlsafe(12)
        member = ClubMember(club=clubs[name], name=person, email=email, confirmed_at=utcnow())
        member.set_password(password)
        db.session.add(member)
        logins.append(DemoLogin(page, f"Verein {name}", email, password))
    db.session.flush()
    return logins
