"""Season series benchmark: a 40-week series on a busy hall, and the weekly Belegungsplan.

Builds one divisible hall (three parts) holding 50 000 existing occurrences: the
parts fully booked by the hour (06:00–23:00) for about 330 days before today, and one
Monday in five ahead taken 18:00–20:00 on one part.  Then measures

* creating a 40-week Monday 18:00–20:00 series of the whole hall with "book the free
  ones" (rules, closures, holidays, quota, slot claims in savepoints, commit): ms, and
  the ratio to the same series on an empty hall measured in the same run;
* the public Belegungsplan of a random week (full Flask stack): p50 / p95, as HTML and
  as PDF.

Runs on a SQLite file and a throw-away PostgreSQL database, like ``bench_booking.py``.
Usage: ``python bench/bench_series.py``.
"""

from __future__ import annotations

import os
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402

from bench.bench_booking import on_both_databases, percentile  # noqa: E402
from buchung.clock import local_moment, local_today, monday_of  # noqa: E402
from buchung.club_models import BookingSeries, Club  # noqa: E402
from buchung.models import SLOT, Booking, BookingSlot, OpeningHours, Resource  # noqa: E402
from buchung.services.series import book_free, preview  # noqa: E402
from lotse import create_app  # noqa: E402
from lotse.extensions import db  # noqa: E402
from lotse.models import Department  # noqa: E402

OCCURRENCES, WEEKS, PLAN_REQUESTS, PDF_REQUESTS = 50_000, 40, 200, 60
HOURS = range(6, 23)


def opening_hours() -> list[OpeningHours]:
    return [OpeningHours(weekday=d, opens_minute=6 * 60, closes_minute=23 * 60) for d in range(7)]


def build(app) -> tuple[int, int, int]:
    """The busy hall with its 50 000 occurrences, an empty hall and an approved club;
    returns (busy hall id, empty hall id, club id)."""
    with app.app_context():
        db.create_all()
        department = Department(name="Sport- und Bäderamt", email="sport@town.example")
        hall = Resource(
            name="Dreifachhalle",
            kind="hall",
            department=department,
            min_minutes=60,
            max_minutes=240,
            horizon_days=800,
            opening_hours=opening_hours(),
            parts=[
                Resource(name=f"Drittel {c}", kind="hall", department=department) for c in "ABC"
            ],
        )
        empty = Resource(
            name="Einfeldhalle",
            kind="hall",
            department=department,
            min_minutes=60,
            max_minutes=240,
            horizon_days=800,
            opening_hours=opening_hours(),
        )
        club = Club(name="TV Bench", approved_at=datetime.now(UTC))
        db.session.add_all([hall, empty, club])
        db.session.commit()
        now = datetime.now(UTC)
        today = local_today()
        rows: list[tuple] = []
        day = today - timedelta(days=1)
        while len(rows) < OCCURRENCES - WEEKS // 5:
            for hour in HOURS:
                for part in hall.parts:
                    rows.append((part.id, local_moment(day, hour * 60), 60))
            day -= timedelta(days=1)
        rows = rows[: OCCURRENCES - WEEKS // 5]
        monday = monday_of(today) + timedelta(weeks=1)
        for week in range(0, WEEKS, 5):
            rows.append(
                (hall.parts[0].id, local_moment(monday + timedelta(weeks=week), 18 * 60), 120)
            )
        bookings, slots = [], []
        for number, (unit, start, minutes) in enumerate(rows, 1):
            end = start + timedelta(minutes=minutes)
            bookings.append(
                dict(
                    id=number, resource_id=unit, starts_at=start, ends_at=end,
                    status="confirmed", kind="booking", purpose="Training", club_id=club.id,
                    contact_name="", contact_email="", contact_phone="",
                    token=secrets.token_urlsafe(16), reason="", created_at=now, updated_at=now,
                )
            )  # fmt: skip
            slot = start
            while slot < end:
                slots.append(dict(unit_id=unit, slot_start=slot, booking_id=number))
                slot += SLOT
        for chunk in range(0, len(bookings), 5000):
            db.session.execute(insert(Booking), bookings[chunk : chunk + 5000])
        for chunk in range(0, len(slots), 20000):
            db.session.execute(insert(BookingSlot), slots[chunk : chunk + 20000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SELECT setval('booking_id_seq', :n)"), {"n": len(rows)})
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"  data: {len(bookings)} occurrences, {len(slots)} slot rows on one hall")
        return hall.id, empty.id, club.id


def bench(label: str, url: str, instance: str) -> None:
    print(f"{label}:")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "MAIL_SERVER": None},
        instance_path=instance,
    )
    started = time.perf_counter()
    hall_id, empty_id, club_id = build(app)
    print(f"  build: {time.perf_counter() - started:.1f} s")

    with app.app_context():
        monday = monday_of(local_today()) + timedelta(weeks=1)
    timings = {}
    for name, resource_id in (
        ("warm-up", empty_id),
        ("empty hall", empty_id),
        ("busy hall", hall_id),
    ):
        with app.app_context():
            series = BookingSeries(
                club=db.session.get(Club, club_id),
                resource=db.session.get(Resource, resource_id),
                weekdays="0",
                start_minute=18 * 60,
                end_minute=20 * 60,
                every_weeks=1,
                first_day=monday,
                last_day=monday + timedelta(weeks=WEEKS - 1),
                purpose="Training",
            )
            if name == "warm-up":  # first queries and the holiday tables load here
                preview(series)
                db.session.rollback()
                continue
            t0, cpu0 = time.perf_counter(), time.process_time()
            planned = book_free(series)
            db.session.commit()
            timings[name] = (time.perf_counter() - t0) * 1000
            cpu = (time.process_time() - cpu0) * 1000
            booked = sum(1 for p in planned if p.booking is not None)
            print(
                f"  40-week series on the {name}, book the free ones: {timings[name]:.0f} ms "
                f"(this process's CPU {cpu:.0f} ms; {booked} booked, "
                f"{len(planned) - booked} not: conflicts or holidays)"
            )
    print(f"  busy / empty hall: {timings['busy hall'] / timings['empty hall']:.2f}×")

    client = app.test_client()
    rng = random.Random(7)
    for kind, suffix, requests in (("HTML", "", PLAN_REQUESTS), ("PDF", ".pdf", PDF_REQUESTS)):
        latencies, cpu = [], []
        for n in range(requests + 10):
            week = monday + timedelta(weeks=rng.randrange(-47, WEEKS))
            t0, cpu0 = time.perf_counter(), time.process_time()
            response = client.get(f"/buchung/{hall_id}/belegungsplan{suffix}?woche={week}")
            elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200
            if n >= 10:
                latencies.append(elapsed)
                cpu.append((time.process_time() - cpu0) * 1000)
        print(
            f"  Belegungsplan week as {kind}: p50 {statistics.median(latencies):.1f} ms, "
            f"p95 {percentile(latencies, 95):.1f} ms; this process's CPU p50 "
            f"{statistics.median(cpu):.1f} ms, p95 {percentile(cpu, 95):.1f} ms "
            f"({requests} requests, up to 357 entries)"
        )
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    on_both_databases(bench)
