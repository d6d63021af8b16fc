"""Booking benchmark: week availability with 50 000 bookings, and booking throughput.

Builds 50 resources (40 rooms and 10 divisible halls with three parts each) holding
50 000 bookings over about a year, then measures through the full Flask stack
(routing, rules, slot table, templates):

* the public week view of a random resource and week: p50 / p95 latency (target p95 ≤ 80 ms);
* booking requests per second, half of them for free slots (stored, mail written) and
  half for taken slots (refused by the conflict check with HTTP 409).

Runs on a SQLite file and on a throw-away PostgreSQL database (created and dropped here;
skipped when the server does not answer).  Usage: ``python bench/bench_booking.py``.
"""

from __future__ import annotations

import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from buchung.clock import local_moment, local_today, monday_of  # noqa: E402
from buchung.models import SLOT, Booking, BookingSlot, OpeningHours, Resource  # noqa: E402
from buchung.services.rules import public_holidays  # noqa: E402
from lotse import create_app  # noqa: E402
from lotse.extensions import db  # noqa: E402
from lotse.models import Department  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
RESOURCES, HALLS, BOOKINGS = 50, 10, 50_000
WEEK_REQUESTS, BOOKING_REQUESTS = 400, 400
TIMES = [(8 * 60, 10 * 60), (12 * 60, 14 * 60), (18 * 60, 20 * 60)]


def build(app) -> list[int]:
    """50 top-level resources and 50 000 non-overlapping bookings; returns resource ids."""
    with app.app_context():
        db.create_all()
        department = Department(name="Sport- und Bäderamt", email="sport@town.example")
        resources = []
        for n in range(RESOURCES):
            resource = Resource(
                name=f"Raum {n:02d}",
                kind="hall" if n < HALLS else "meeting_room",
                department=department,
                min_minutes=60,
                max_minutes=240,
                horizon_days=800,
                opening_hours=[
                    OpeningHours(weekday=d, opens_minute=6 * 60, closes_minute=23 * 60)
                    for d in range(7)
                ],
            )
            if n < HALLS:
                resource.parts = [
                    Resource(name=f"Drittel {c}", kind="hall", department=department) for c in "ABC"
                ]
            resources.append(resource)
        db.session.add_all(resources)
        db.session.commit()
        today = local_today() + timedelta(days=1)
        now = datetime.now(UTC)
        booking_rows, slot_rows = [], []
        for number in range(BOOKINGS):
            resource = resources[number % RESOURCES]
            day_index, time_index = divmod(number // RESOURCES, len(TIMES))
            day = today + timedelta(days=day_index)
            start_min, end_min = TIMES[time_index]
            target = resource
            if resource.parts and number % 2:
                target = resource.parts[number % 3]
            start, end = local_moment(day, start_min), local_moment(day, end_min)
            booking_id = number + 1
            booking_rows.append(
                dict(
                    id=booking_id,
                    resource_id=target.id,
                    starts_at=start,
                    ends_at=end,
                    status="confirmed",
                    kind="booking",
                    purpose="Training",
                    contact_name="Verein",
                    contact_email="verein@example.org",
                    contact_phone="",
                    token=secrets.token_urlsafe(16),
                    reason="",
                    created_at=now,
                    updated_at=now,
                )
            )
            slot = start
            while slot < end:
                for unit in target.unit_ids():
                    slot_rows.append(dict(unit_id=unit, slot_start=slot, booking_id=booking_id))
                slot += SLOT
        for chunk in range(0, len(booking_rows), 5000):
            db.session.execute(insert(Booking), booking_rows[chunk : chunk + 5000])
            ids = {row["id"] for row in booking_rows[chunk : chunk + 5000]}
            db.session.execute(
                insert(BookingSlot), [r for r in slot_rows if r["booking_id"] in ids]
            )
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SELECT setval('booking_id_seq', :n)"), {"n": BOOKINGS})
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(
            f"  data: {len(booking_rows)} bookings, {len(slot_rows)} slot rows, {day_index + 1} days"
        )
        return [r.id for r in resources], today, day_index


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def bench(label: str, url: str, instance: str) -> None:
    print(f"{label}:")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "MAIL_SERVER": None,
        },
        instance_path=instance,
    )
    started = time.perf_counter()
    resource_ids, first_day, days = build(app)
    print(f"  build: {time.perf_counter() - started:.1f} s")
    client = app.test_client()
    rng = random.Random(7)

    latencies = []
    for n in range(WEEK_REQUESTS + 20):
        resource_id = rng.choice(resource_ids)
        week = monday_of(first_day + timedelta(days=rng.randrange(days)))
        t0 = time.perf_counter()
        response = client.get(f"/buchung/{resource_id}?woche={week.isoformat()}")
        elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 200 and "belegt" in response.get_data(as_text=True)
        if n >= 20:  # warm-up done
            latencies.append(elapsed)
    p95 = percentile(latencies, 95)
    print(
        f"  week view: p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms "
        f"({WEEK_REQUESTS} requests; target p95 ≤ 80 ms: {'ok' if p95 <= 80 else 'MISSED'})"
    )

    with app.app_context():
        holidays = public_holidays(first_day, first_day + timedelta(days=days))
    open_days = [d for d in range(days) if first_day + timedelta(days=d) not in holidays]
    free_slots = [(r, d) for r in resource_ids for d in open_days]
    rng.shuffle(free_slots)
    outcomes = {201: 0, 409: 0}
    t0 = time.perf_counter()
    for n in range(BOOKING_REQUESTS):
        resource_id, day_index = free_slots[n // 2]
        day = first_day + timedelta(days=day_index)
        taken = n % 2 == 1
        response = client.post(
            f"/buchung/{resource_id}/buchen",
            data={
                "day": day.isoformat(),
                "start": "08:30" if taken else "15:00",
                "end": "09:30" if taken else "16:00",
                "purpose": "Bench",
                "attendees": "5",
                "customer_group": "club",
                "contact_name": "Bench",
                "contact_email": "bench@example.org",
                "contact_phone": "1",
            },
        )
        code = 201 if response.status_code == 302 else response.status_code
        assert code == (409 if taken else 201), (code, response.get_data(as_text=True)[:2000])
        outcomes[code] += 1
    elapsed = time.perf_counter() - t0
    print(
        f"  booking requests: {BOOKING_REQUESTS / elapsed:.0f} per second "
        f"({outcomes[201]} stored, {outcomes[409]} refused as taken, sequential, one process)"
    )
    with app.app_context():
        db.engine.dispose()


def on_both_databases(bench) -> None:
    """Run ``bench(label, url, instance)`` on a SQLite file and a throw-away PostgreSQL database."""
    with tempfile.TemporaryDirectory() as folder:
        bench("SQLite (file, WAL)", f"sqlite:///{folder}/bench.sqlite3", folder)
    name = f"lotse_bench_{secrets.token_hex(4)}"
    try:
        admin = create_engine(
            PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - no server: say so and stop
        print(f"PostgreSQL: skipped ({type(exc).__name__})")
        return
    try:
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory() as folder:
            bench("PostgreSQL", url, folder)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    on_both_databases(bench)
