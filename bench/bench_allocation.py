"""Season allocation benchmark: publishing a round of 200 requests over 10 halls, 40 weeks.

Builds 10 halls (the first three divisible into thirds), 100 approved clubs and one
round over a 40-week season starting next week, with 200 applications: priority classes
mixed (Schule, Kita, Wettkampf, Training, Gewerblich), one or two sessions of 90 or 120
minutes between 16:00 and 21:00 on weekdays, three halls or hall parts ranked.  Measures

* the proposal (``propose``): s;
* publishing (``publish``: every allocation booked as a 40-week series through the series
  service, skipped dates recorded, result mails queued, commit): s, and per series versus
  a baseline measured in the same run: one club's own 40-week series booked with
  ``book_free`` on a separate hall (ratio ≈ 1 means publishing adds nothing per series);
* publishing again (nothing to do) and un-publishing (removes every created series): s;
* peak memory of publishing: the process's resident set size before publishing and its
  maximum after (the build and the proposal peak lower, so the maximum is publishing's).

Runs on a SQLite file and a throw-away PostgreSQL database, like ``bench_booking.py``.
Usage: ``python bench/bench_allocation.py [REQUESTS]`` (default 200; a smaller round, e.g.
50, for a loaded machine).  Times are wall clock and this process's CPU time.
"""

from __future__ import annotations

import os
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from bench.bench_booking import on_both_databases  # noqa: E402
from buchung.allocation.models import (  # noqa: E402
    AllocationRound,
    AllocationSkip,
    PriorityClass,
    RequestHall,
)
from buchung.allocation.proposal import propose  # noqa: E402
from buchung.allocation.publishing import publish, unpublish  # noqa: E402
from buchung.allocation.services import create_request  # noqa: E402
from buchung.clock import local_today, monday_of  # noqa: E402
from buchung.club_models import BookingSeries, Club, Season  # noqa: E402
from buchung.models import Booking, OpeningHours, Resource  # noqa: E402
from buchung.services.rules import public_holidays  # noqa: E402
from buchung.services.series import book_free  # noqa: E402
from lotse import create_app  # noqa: E402
from lotse.extensions import db  # noqa: E402
from lotse.models import Department, utcnow  # noqa: E402

HALLS, DIVISIBLE, CLUBS, WEEKS = 10, 3, 100, 40
REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
CLASSES = [("Schule", 1, False), ("Kita", 2, False), ("Wettkampf", 3, True)]
CLASSES += [("Training", 4, True), ("Gewerblich", 5, True)]
CLASS_WEIGHTS = [10, 5, 20, 60, 5]


def _hall(name: str, department: Department, parts: bool) -> Resource:
    hall = Resource(
        name=name,
        kind="hall",
        department=department,
        slot_minutes=30,
        min_minutes=60,
        max_minutes=240,
        horizon_days=800,
        opening_hours=[
            OpeningHours(weekday=d, opens_minute=8 * 60, closes_minute=22 * 60) for d in range(7)
        ],
    )
    if parts:
        hall.parts = [
            Resource(name=f"Drittel {c}", kind="hall", department=department) for c in "ABC"
        ]
    return hall


def build(app) -> tuple[int, int, int]:
    """Halls, clubs, classes, the round with its 200 applications; returns (round, baseline
    hall, baseline club) ids."""
    rng = random.Random(2026)
    with app.app_context():
        db.create_all()
        department = Department(name="Sport- und Bäderamt", email="sport@town.example")
        halls = [_hall(f"Halle {n:02d}", department, n < DIVISIBLE) for n in range(HALLS)]
        baseline_hall = _hall("Vergleichshalle", department, False)
        now = datetime.now(UTC)
        clubs = [Club(name=f"Verein {n:03d}", approved_at=now) for n in range(CLUBS + 1)]
        classes = [PriorityClass(name=n, rank=r, open_to_clubs=o) for n, r, o in CLASSES]
        first = monday_of(local_today()) + timedelta(weeks=1)
        season = Season(
            name="Bench", first_day=first, last_day=first + timedelta(weeks=WEEKS, days=-1)
        )
        round_ = AllocationRound(
            name="Bench-Runde",
            season=season,
            deadline=utcnow() - timedelta(minutes=1),
            resources=halls,
        )
        db.session.add_all([*halls, baseline_hall, *clubs, *classes, round_])
        db.session.flush()
        choices = [r for hall in halls for r in ([hall, *hall.parts] if hall.parts else [hall])]
        for n in range(REQUESTS):
            days = rng.sample(range(5), 2)
            start = rng.choice(range(16 * 60, 20 * 60 + 1, 30))
            second_start = rng.choice(range(16 * 60, 20 * 60 + 1, 30))
            create_request(
                round_,
                clubs[n % CLUBS],
                team=f"Team {n:03d}",
                priority_class=rng.choices(classes, CLASS_WEIGHTS)[0],
                sessions_per_week=rng.choice([1, 1, 2]),
                duration_minutes=rng.choice([90, 120]),
                first=(days, start),
                second=(rng.sample(range(5), 2), second_start),
                hall_ids=[r.id for r in rng.sample(choices, 3)],
            )
        db.session.commit()
        return round_.id, baseline_hall.id, clubs[-1].id


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def bench(label: str, url: str, instance: str) -> None:
    print(f"{label}:")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "MAIL_SERVER": None},
        instance_path=instance,
    )
    started = time.perf_counter()
    round_id, baseline_hall, baseline_club = build(app)
    print(f"  build: {time.perf_counter() - started:.1f} s")

    with app.app_context(), app.test_request_context():
        season = db.session.get(AllocationRound, round_id).season
        public_holidays(season.first_day, season.last_day)  # load the holidays data first
        t0, cpu0 = time.perf_counter(), time.process_time()
        series = BookingSeries(
            club=db.session.get(Club, baseline_club),
            resource=db.session.get(Resource, baseline_hall),
            weekdays="2",
            start_minute=18 * 60,
            end_minute=20 * 60,
            first_day=season.first_day,
            last_day=season.last_day,
            purpose="Training",
        )
        book_free(series)
        db.session.commit()
        baseline = time.perf_counter() - t0
        print(
            f"  baseline, one club's 40-week series (book_free): {baseline * 1000:.0f} ms "
            f"(CPU {(time.process_time() - cpu0) * 1000:.0f} ms)"
        )

        t0 = time.perf_counter()
        allocations = propose(db.session.get(AllocationRound, round_id))
        db.session.commit()
        print(
            f"  proposal: {time.perf_counter() - t0:.2f} s "
            f"({len(allocations)} sessions for {REQUESTS} requests, "
            f"{count(RequestHall)} hall wishes)"
        )

        rss_before = _max_rss_mib()
        t0, cpu0 = time.perf_counter(), time.process_time()
        booked = publish(db.session.get(AllocationRound, round_id))
        db.session.commit()
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        bookings = db.session.scalar(
            select(func.count()).select_from(Booking).where(Booking.series_id != series.id)
        )
        print(
            f"  publish: {elapsed:.1f} s (CPU {cpu:.1f} s) for {len(booked)} series, "
            f"{bookings} occurrences booked ({elapsed / max(bookings, 1) * 1000:.1f} ms each), "
            f"{count(AllocationSkip)} dates skipped with reasons; "
            f"{elapsed / len(booked) * 1000:.0f} ms per series = "
            f"{elapsed / len(booked) / baseline:.2f}× the baseline"
        )
        print(
            f"  peak memory: max RSS {rss_before:.0f} MiB before publishing, "
            f"{_max_rss_mib():.0f} MiB after"
        )

        t0 = time.perf_counter()
        again = publish(db.session.get(AllocationRound, round_id))
        db.session.commit()
        print(f"  publish again: {time.perf_counter() - t0:.2f} s ({len(again)} series booked)")

        t0 = time.perf_counter()
        removed = unpublish(db.session.get(AllocationRound, round_id))
        db.session.commit()
        print(
            f"  un-publish: {time.perf_counter() - t0:.2f} s ({removed} series removed, "
            f"{count(BookingSeries)} left: the baseline's own)"
        )

        db.engine.dispose()
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    on_both_databases(bench)
