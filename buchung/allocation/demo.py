"""Demo data: a round whose application deadline has passed, with three clubs' applications
(for the office to walk proposal → check → publish), and an open round for the season
after it."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from buchung.allocation.models import AllocationRound, PriorityClass, Turns
from buchung.allocation.services import create_request
from buchung.clock import local_moment, local_today, monday_of
from buchung.club_models import Club, ClubQuota, Season
from buchung.models import Resource, ResourceKind
from buchung.services.booking import Contact, create_booking
from lotse.extensions import db
from lotse.models import User, utcnow

CLASSES = [("Schule", 1, False), ("Kita", 2, False), ("Wettkampf", 3, True)]
CLASSES += [("Training", 4, True), ("Gewerblich", 5, True)]

# Members per club, as their last returns to the sports federation said.
MEMBER_COUNTS = {"TV Musterstadt 1890": 640, "BC Rur": 180, "SG Rurtal": 310}

# The closed round's applications: club, team, class (and evidence), sessions, minutes,
# first wish (weekdays, start), second wish, halls in order of preference.
APPLICATIONS = [
    ("TV Musterstadt 1890", "Handball D-Jugend", "Training", "", 2, 90,
     ([1, 3], "17:00"), ([0, 4], "16:30"), ["Drittel A", "Drittel B"]),
    ("TV Musterstadt 1890", "Volleyball Damen 1", "Wettkampf", "Bezirksliga Köln, Staffel 2",
     1, 120, ([1], "19:00"), ([3], "20:00"), ["Drittel C", "Drittel B"]),
    ("BC Rur", "Basketball Herren", "Wettkampf", "Landesliga West", 2, 120,
     ([1, 3], "19:00"), ([4], "20:00"), ["Drittel C", "Drittel B"]),
    ("BC Rur", "Basketball U14", "Training", "", 1, 90,
     ([0], "16:30"), ([2], "16:30"), ["Drittel B", "Drittel C"]),
    ("SG Rurtal", "Badminton Hobby", "Training", "", 1, 120,
     ([2], "18:00"), ([4], "18:00"), ["Gymnastikhalle", "Drittel A"]),
    ("SG Rurtal", "Tischtennis Herren", "Training", "", 2, 120,
     ([1, 4], "17:00"), ([0], "20:00"), ["Drittel A", "Gymnastikhalle"]),
]  # fmt: skip


def seed() -> None:
    """The usual priority classes; a round for the coming weeks whose deadline has passed,
    and a round open for applications for the season after it."""
    if not db.session.scalar(select(PriorityClass)):
        db.session.add_all(PriorityClass(name=n, rank=r, open_to_clubs=o) for n, r, o in CLASSES)
    # The demo town wants a league entry for Wettkampf (the migration seeds the classes).
    db.session.execute(
        update(PriorityClass).where(PriorityClass.name == "Wettkampf").values(needs_evidence=True)
    )
    db.session.flush()
    halls = list(
        db.session.scalars(
            select(Resource).where(
                Resource.parent_id.is_(None),
                Resource.kind.in_([ResourceKind.HALL, ResourceKind.GYM]),
            )
        )
    )
    club = db.session.scalar(select(Club).where(Club.approved_at.is_not(None)).order_by(Club.id))
    if not halls or club is None:
        return
    first = monday_of(local_today()) + timedelta(weeks=13)
    _closed_round(halls, first - timedelta(days=1))
    season = Season(
        name=f"Saison ab {first:%d.%m.%Y}",
        first_day=first,
        last_day=first + timedelta(weeks=26, days=-1),
    )
    round_ = AllocationRound(
        name=f"Hallenvergabe {season.name}",
        season=season,
        deadline=utcnow() + timedelta(days=14),
        resources=halls,
    )
    db.session.add(round_)
    db.session.flush()
    training = db.session.scalar(select(PriorityClass).where(PriorityClass.name == "Training"))
    for team, days, start in (
        ("Kinderturnen", [0, 3], 16 * 60),
        ("Volleyball Damen", [2], 19 * 60),
    ):
        create_request(
            round_,
            club,
            team=team,
            priority_class=training,
            sessions_per_week=len(days),
            duration_minutes=90,
            first=(days, start),
            second=([1, 4], start + 60),
            hall_ids=[halls[0].id],
        )


def _closed_round(halls: list[Resource], last_day: date) -> None:
    """A round over the eleven weeks from the week after next, its deadline passed
    yesterday, turns weighted by members: three clubs' applications, a Wettkampf claim on
    either side waiting for confirmation, a Tuesday tournament in the Dreifachhalle that
    makes one date a gap to accept, and a season quota of 4 hours for SG Rurtal there."""
    first = monday_of(local_today()) + timedelta(weeks=2)
    season = Season(
        name=f"Saison {first:%d.%m.}–{last_day:%d.%m.%Y}", first_day=first, last_day=last_day
    )
    round_ = AllocationRound(
        name=f"Hallenvergabe {season.name}",
        season=season,
        deadline=utcnow() - timedelta(days=1),
        resources=halls,
        turns=Turns.MEMBERS,
    )
    clubs = {c.name: c for c in db.session.scalars(select(Club))}
    rurtal = Club(
        name="SG Rurtal",
        register_number="VR 905",
        contact_persons="Rita Rurtal, 02422 9050",
        approved_at=utcnow(),
    )
    clubs[rurtal.name] = rurtal
    for name, count in MEMBER_COUNTS.items():
        clubs[name].set_member_count(count)
    db.session.add_all([round_, rurtal])
    db.session.flush()
    resources = {r.name: r for r in db.session.scalars(select(Resource))}
    dreifach = next(h for h in halls if h.parts)
    db.session.add(ClubQuota(club=rurtal, resource=dreifach, season=season, max_minutes=4 * 60))
    classes = {c.name: c for c in db.session.scalars(select(PriorityClass))}
    for club, team, klass, evidence, sessions, minutes, wish, second, hall_names in APPLICATIONS:
        create_request(
            round_,
            clubs[club],
            team=team,
            priority_class=classes[klass],
            sessions_per_week=sessions,
            duration_minutes=minutes,
            first=(wish[0], _minute(wish[1])),
            second=(second[0], _minute(second[1])),
            hall_ids=[resources[h].id for h in hall_names],
            evidence=evidence,
        )
    office = db.session.scalar(select(User).where(User.email == "buchung@musterstadt.example"))
    tournament = first + timedelta(weeks=4, days=1)  # a Tuesday
    create_booking(
        dreifach,
        local_moment(tournament, 17 * 60),
        local_moment(tournament, 22 * 60),
        purpose="Kreismeisterschaft Tischtennis",
        contact=Contact("Kreissportbund", "", "02422 0000-0"),
        staff=office,
    )
    # Applications made before the deadline: no receipt to send now.
    for request in round_.requests:
        request.receipt_sent_at = utcnow()
    db.session.flush()


def _minute(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:])
