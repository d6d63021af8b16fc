"""Publishing benchmark: 40 clubs × 3 units × 40 weeks, checked and then published.

Builds four divisible halls (thirds), 40 approved clubs (every fourth with a weekly
quota of 4 hours per hall, which its three units of 2 hours exceed in one hall), one
round over a 40-week season starting next week with three applications per club, the
proposal, and then measures

* the pre-publish check (``check``: every date computed, nothing written): s, SQL
  statements;
* publishing (``publish`` in the office's name, commit): s, CPU s, SQL statements, and
  peak memory: the resident set size when publishing starts and its high-water mark
  during publishing (Linux resets the mark through ``/proc/self/clear_refs``, so neither
  the build nor the proposal hides publishing's own peak), and the growth between them;
* the result: series, dates booked, dates lost with reasons, and whether the check
  predicted exactly what was booked.

Runs on a SQLite file and a throw-away PostgreSQL database, like ``bench_booking.py``.
Usage: ``python bench/bench_publish.py [CLUBS]`` (default 40).
"""

from __future__ import annotations

import os
import resource
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, func, select  # noqa: E402

from bench.bench_booking import on_both_databases  # noqa: E402
from buchung.allocation.models import (  # noqa: E402
    Allocation,
    AllocationRound,
    AllocationSkip,
    PriorityClass,
)
from buchung.allocation.proposal import propose  # noqa: E402
from buchung.allocation.publishing import check, publish  # noqa: E402
from buchung.allocation.services import create_request  # noqa: E402
from buchung.clock import local_today, monday_of, to_local  # noqa: E402
from buchung.club_models import Club, ClubQuota, Season  # noqa: E402
from buchung.models import Booking, OpeningHours, Resource  # noqa: E402
from buchung.services.rules import public_holidays  # noqa: E402
from lotse import create_app  # noqa: E402
from lotse.extensions import db  # noqa: E402
from lotse.models import Department, User, utcnow  # noqa: E402

CLUBS = int(sys.argv[1]) if len(sys.argv) > 1 else 40
UNITS, WEEKS, HALLS = 3, 40, 4


def build(app) -> tuple[int, int]:
    """Halls, clubs, the round, 3 applications per club, the proposal; (round, user) ids."""
    with app.app_context(), app.test_request_context():
        db.create_all()
        department = Department(name="Sport- und Bäderamt", email="sport@town.example")
        halls = []
        for n in range(HALLS):
            hall = Resource(
                name=f"Halle {n}",
                kind="hall",
                department=department,
                slot_minutes=30,
                min_minutes=60,
                max_minutes=240,
                horizon_days=180,  # shorter than the season: the office books beyond it
                needs_approval=True,  # and confirmed anyway
                opening_hours=[
                    OpeningHours(weekday=d, opens_minute=8 * 60, closes_minute=22 * 60)
                    for d in range(7)
                ],
            )
            hall.parts = [
                Resource(name=f"Drittel {c}", kind="hall", department=department) for c in "ABC"
            ]
            halls.append(hall)
        now = datetime.now(UTC)
        clubs = [Club(name=f"Verein {n:02d}", approved_at=now) for n in range(CLUBS)]
        training = PriorityClass(name="Training", rank=4, open_to_clubs=True)
        first = monday_of(local_today()) + timedelta(weeks=1)
        season = Season(
            name="Bench", first_day=first, last_day=first + timedelta(weeks=WEEKS, days=-1)
        )
        user = User(email="buero@town.example", display_name="Büro")
        user.set_password(secrets.token_urlsafe())
        round_ = AllocationRound(
            name="Bench-Runde",
            season=season,
            deadline=utcnow() - timedelta(minutes=1),
            resources=halls,
            created_by=user,
        )
        db.session.add_all([*halls, *clubs, training, round_, user])
        db.session.flush()
        units = [part for hall in halls for part in hall.parts]
        for n in range(CLUBS * UNITS):
            # A distinct (part, weekday, two-hour slot) for each application.
            unit, weekday, slot = n % len(units), (n // len(units)) % 5, n // (len(units) * 5)
            club = clubs[n % CLUBS]
            create_request(
                round_,
                club,
                team=f"Team {n:03d}",
                priority_class=training,
                sessions_per_week=1,
                duration_minutes=120,
                first=([weekday], (16 + 2 * (slot % 3)) * 60),
                second=None,
                hall_ids=[units[unit].id],
            )
        for club in clubs[::4]:
            for hall in halls:
                db.session.add(ClubQuota(club_id=club.id, resource_id=hall.id, max_minutes=240))
        db.session.flush()
        propose(round_)
        db.session.commit()
        return round_.id, user.id


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # kB
    raise LookupError(field)


def reset_peak_rss() -> float:
    """Reset the peak resident set size to the current one (Linux); returns the current."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status_mib("VmRSS")
    except OSError:  # not Linux: the process's maximum so far
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss() -> float:
    """The peak resident set size since ``reset_peak_rss``, in MiB."""
    try:
        return _status_mib("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class StatementCounter:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args) -> None:
        self.count += 1


def bench(label: str, url: str, instance: str) -> None:
    print(f"{label}:")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "MAIL_SERVER": None},
        instance_path=instance,
    )
    started = time.perf_counter()
    round_id, user_id = build(app)
    print(f"  build and proposal: {time.perf_counter() - started:.1f} s")

    with app.app_context(), app.test_request_context():
        round_ = db.session.get(AllocationRound, round_id)
        public_holidays(round_.season.first_day, round_.season.last_day)  # load holidays data
        allocations = db.session.scalar(select(func.count()).select_from(Allocation))
        statements = StatementCounter(db.engine)

        t0 = time.perf_counter()
        result = check(round_)
        predicted = {(u.allocation.id, d.day): d.booked for u in result.units for d in u.dates}
        print(
            f"  check: {time.perf_counter() - t0:.2f} s, {statements.count} SQL statements; "
            f"{allocations} units, {result.dates} dates: {result.booked} to book, "
            f"{result.gaps} lost ({len(result.to_accept())} to accept)"
        )
        db.session.rollback()

        round_ = db.session.get(AllocationRound, round_id)
        round_.published_by_id = user_id
        statements.count = 0
        rss_before = reset_peak_rss()
        t0, cpu0 = time.perf_counter(), time.process_time()
        booked = publish(round_)
        db.session.commit()
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        rss_peak = peak_rss()
        bookings = list(
            db.session.execute(select(Booking.series_id, Booking.starts_at, Booking.status))
        )
        series_of = {a.series_id: a.id for a in db.session.scalars(select(Allocation))}
        actual = {(series_of[s], to_local(t).date()) for s, t, _status in bookings}
        statuses = {status for _s, _t, status in bookings}
        skips = db.session.scalar(select(func.count()).select_from(AllocationSkip))
        print(
            f"  publish: {elapsed:.1f} s (CPU {cpu:.1f} s), {statements.count} SQL statements "
            f"({statements.count / max(len(bookings), 1):.1f} per date booked); "
            f"{len(booked)} series, {len(bookings)} dates booked ({sorted(statuses)}), "
            f"{skips} lost with reasons"
        )
        print(
            f"  peak memory: RSS {rss_before:.0f} MiB when publishing starts, peak "
            f"{rss_peak:.0f} MiB during publishing (+{rss_peak - rss_before:.0f} MiB)"
        )
        exact = actual == {key for key, booked in predicted.items() if booked}
        print(f"  the check predicted exactly what was booked: {exact}")
        db.engine.dispose()
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    on_both_databases(bench)
