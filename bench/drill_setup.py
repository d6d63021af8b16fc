"""What the drill adds to the seeded demo town before the load starts.

Clerks for every department, approved clubs with confirmed logins, a webhook for the
external street-light operator (so webhooks are delivered too), an area around the drill's
reports with a neighbour's confirmed alert for every new report and change of status in it
(so alerts are mailed too), and the bookable times the
load generator fights over: every candidate keeps the booking rules, so a refusal can only
mean "taken" (409 for citizens, "nothing was free" for a club's series).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from buchung.clock import local_moment, local_today
from buchung.club_models import Club, ClubMember
from buchung.models import Resource
from buchung.services.rules import check_booking
from lotse import create_app
from lotse.cli import create_staff_user
from lotse.extensions import db
from lotse.models import Department, Role, utcnow
from mangel.models import OPEN_STATUSES, Category, Report
from mangel.routing.models import DepartmentEndpoint

CLERKS = 3
CLUBS = 6
EXTERNAL = "Straßenbeleuchtung (Netzbetreiber)"
CENTRE = (50.747, 6.491)  # the load's reports fall within 0.004° of it
AREA = "Drill-Innenstadt"
NEIGHBOUR = "anwohnerin@drill.example"  # her alert: every new report and change of status


@dataclass(frozen=True)
class Slot:
    """A time a citizen or club may book: resource, local day and times as the form takes them."""

    resource_id: int
    day: str  # YYYY-MM-DD
    start: str  # HH:MM
    end: str
    weekday: int


@dataclass
class Fixtures:
    clerks: list[str] = field(default_factory=list)
    clubs: list[str] = field(default_factory=list)
    categories: list[tuple[int, bool]] = field(default_factory=list)  # (id, photo required)
    reports: list[int] = field(default_factory=list)  # public demo reports
    open_reports: list[int] = field(default_factory=list)  # of those, the open ones
    resources: list[int] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    webhook_secret: str = ""
    area_id: int = 0


def prepare(stack) -> Fixtures:
    """Migrate and seed the stack's database, add the drill's accounts; list what to load.

    In this process rather than with ``flask db upgrade`` and ``flask lotse seed-demo``:
    the same code, two interpreter start-ups fewer on a busy machine.
    """
    from flask_migrate import upgrade

    from bench.drill_stack import PASSWORD, new_secret

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": stack.db_url,
            "SECRET_KEY": "drill-setup",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PUBLIC_BASE_URL": stack.base_url,
        },
        instance_path=str(stack.workdir / "setup"),
    )
    fixtures = Fixtures(webhook_secret=new_secret())
    with app.app_context():
        upgrade()
    seeded = app.test_cli_runner().invoke(args=["lotse", "seed-demo"])
    if seeded.exit_code != 0:
        raise RuntimeError(f"seed-demo failed: {seeded.output}")
    with app.app_context():
        departments = list(db.session.scalars(select(Department).order_by(Department.id)))
        for n in range(CLERKS):
            email = f"sachbearbeitung{n}@drill.example"
            create_staff_user(email, f"Sachbearbeitung {n}", PASSWORD, [Role.CLERK], departments)
            fixtures.clerks.append(email)
        for n in range(CLUBS):
            club = Club(name=f"Drill-Verein {n}", register_number=f"VR D{n}", approved_at=utcnow())
            member = ClubMember(club=club, name=f"Vorstand {n}", email=f"verein{n}@drill.example")
            member.set_password(PASSWORD)
            member.confirmed_at = utcnow()
            db.session.add(member)
            fixtures.clubs.append(member.email)
        external = db.session.scalar(select(Department).where(Department.name == EXTERNAL))
        db.session.add(
            DepartmentEndpoint(
                department_id=external.id,
                webhook_url=stack.webhook.url,
                webhook_secret=fixtures.webhook_secret,
            )
        )
        fixtures.area_id = _alert_area()
        db.session.commit()
        fixtures.categories = [
            (c.id, c.photo_required)
            for c in db.session.scalars(select(Category).where(Category.parent_id.is_not(None)))
        ]
        fixtures.reports = list(
            db.session.scalars(select(Report.id).where(Report.confirmed_at.is_not(None)))
        )
        fixtures.open_reports = list(
            db.session.scalars(
                select(Report.id).where(
                    Report.confirmed_at.is_not(None),
                    Report.status.in_([s.value for s in OPEN_STATUSES]),
                )
            )
        )
        fixtures.slots = bookable_slots()
        fixtures.resources = sorted({s.resource_id for s in fixtures.slots})
        db.session.remove()
        db.engine.dispose()
    return fixtures


def _alert_area() -> int:
    """An area around the load's reports and a neighbour's confirmed alert on it."""
    from shapely.geometry import box

    from mangel.alerts.models import AlertSubscription
    from mangel.routing.areas import store_area

    lat, lon = CENTRE
    area = store_area(AREA, box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01))
    db.session.add(
        AlertSubscription(
            email=NEIGHBOUR,
            kind="area",
            area_id=area.id,
            label=AREA,
            on_new=True,
            on_status=True,
            frequency="immediate",
            confirmed=True,
        )
    )
    return area.id


def bookable_slots(days: range = range(2, 12), wanted: int = 160) -> list[Slot]:
    """One- and two-hour times on the gym and the divisible hall (whole and thirds).

    Candidates inside the opening hours are drawn at random and kept when the booking rules
    (closures, holidays, horizon) allow them, until ``wanted`` are found.
    """
    names = ["Gymnastikhalle", "Dreifachhalle Schulzentrum", "Drittel A", "Drittel B", "Drittel C"]
    resources = db.session.scalars(select(Resource).where(Resource.name.in_(names))).all()
    today = local_today()
    candidates = []
    for resource in resources:
        hours = resource.root.opening_hours
        for offset in days:
            day = today + timedelta(days=offset)
            for row in hours:
                if row.weekday != day.weekday():
                    continue
                for minute in range(row.opens_minute, row.closes_minute, 60):
                    for length in (60, 120):
                        if minute + length <= row.closes_minute:
                            candidates.append((resource, day, minute, length))
    random.Random(11).shuffle(candidates)
    slots = []
    for resource, day, minute, length in candidates:
        start = local_moment(day, minute)
        end = local_moment(day, minute + length)
        if check_booking(resource, start, end, attendees=10):
            continue
        slots.append(
            Slot(
                resource.id,
                day.isoformat(),
                f"{minute // 60:02d}:{minute % 60:02d}",
                f"{(minute + length) // 60:02d}:{(minute + length) % 60:02d}",
                day.weekday(),
            )
        )
        if len(slots) == wanted:
            break
    return slots
