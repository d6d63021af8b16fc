# ruff: noqa: S608, S106 - SQL built from our own table names and numbers; a throw-away token
"""Availability API for a month of a three-part hall with 50 000 bookings, beside pure Flask.

    .venv/bin/python bench/bench_availability.py [--bookings 50000] [--duration 8] [--workers 2]

Fills a throw-away PostgreSQL database (schema from the models, one prototype booking
through the ORM, then ``INSERT … SELECT`` from ``generate_series``): a hall "Dreifachhalle"
with the parts Drittel A/B/C, open 08–22 every day, a weekly closure, and ``--bookings``
bookings of 90 minutes on its parts, five per part and day, from years back to years ahead,
each with its slot rows.  Two gunicorn servers with the same settings (``--workers`` sync
workers, loopback): a pure Flask app with one JSON route, and Lotse.  ``wrk`` drives each
endpoint in turn (16 connections), or, where wrk is missing, a Python loop of keep-alive
connections (8 threads; the loop then shares the 2 cores with the servers, so every figure
is lower, pure Flask's most).  Printed: req/s, p50/p95/max, server CPU per request, the share
of pure Flask's req/s — all from the same run — and the load average beside it.

Issue 23 sets no target; the figures are for comparison between runs (CPU per request
moves least with the machine's load).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_geojson import server_cpu_seconds  # noqa: E402 - after the path is set
from bench_public import (  # noqa: E402
    _copy_rows,
    config,
    drain,
    drop_postgres,
    postgres_url,
    run_wrk,
    start_server,
    wait_until_up,
)

PG_DATABASE = "lotse_bench_availability"
PER_PART_AND_DAY = 5
LOOP_THREADS = 8


def lotse_app():
    """gunicorn factory: Lotse as deployed, on the benchmark database."""
    from lotse import create_app

    return create_app(
        config(os.environ["BENCH_DATABASE_URL"]), instance_path=os.environ["BENCH_INSTANCE"]
    )


def populate(database_url: str, instance: Path, bookings: int) -> int:
    """The hall, its parts, a weekly closure and ``bookings`` bookings with their slots."""
    from datetime import timedelta

    from sqlalchemy import create_engine

    from buchung.models import Booking, Closure, OpeningHours, Resource
    from lotse import create_app
    from lotse.extensions import db
    from lotse.models import Department, utcnow

    app = create_app(config(database_url), instance_path=str(instance))
    with app.app_context():
        db.create_all()
        sport = Department(name="Sport- und Bäderamt", email="sport@bench.example")
        hall = Resource(
            name="Dreifachhalle",
            kind="hall",
            slot_minutes=30,
            min_minutes=60,
            max_minutes=240,
            horizon_days=800,
            department=sport,
        )
        hall.opening_hours = [
            OpeningHours(weekday=d, opens_minute=8 * 60, closes_minute=22 * 60) for d in range(7)
        ]
        parts = [
            Resource(name=f"Drittel {x}", kind="hall", parent=hall, department=sport) for x in "ABC"
        ]
        db.session.add_all([hall, *parts])
        db.session.flush()
        now = utcnow()
        db.session.add(
            Closure(
                resource_id=hall.id,
                title="Bodenpflege",
                starts_at=now.replace(hour=12, minute=0, second=0, microsecond=0),
                ends_at=now.replace(hour=14, minute=0, second=0, microsecond=0),
                weekly=True,
            )
        )
        booking = Booking(
            resource_id=parts[0].id,
            starts_at=now - timedelta(days=3000),
            ends_at=now - timedelta(days=3000) + timedelta(minutes=90),
            status="confirmed",
            purpose="Training",
            token="prototype",
        )
        db.session.add(booking)
        db.session.flush()
        per_day = PER_PART_AND_DAY * len(parts)
        first_day = -(bookings // per_day) // 2  # half behind, half ahead
        part_ids = [p.id for p in parts]
        conn = db.session.connection()
        started = time.monotonic()
        _copy_rows(
            conn,
            Booking.__table__,
            booking.id,
            bookings,
            {
                "resource_id": f"(ARRAY{part_ids})[1 + g % {len(parts)}]",
                "starts_at": "start",
                "ends_at": "start + interval '90 minutes'",
                "token": "md5(g::text)",
            },
            # Day d, booking k of the day: part k % 3, the (k / 3)-th block of 2.5 hours
            # from 08:00 (local), a part's blocks shifted by 30 minutes each.
            "SELECT g, ((date_trunc('day', now() AT TIME ZONE 'Europe/Berlin')"
            f" + ({first_day} + g / {per_day}) * interval '1 day'"
            f" + interval '8 hours' + ((g % {per_day}) / {len(parts)}) * interval '150 minutes'"
            f" + (g % {len(parts)}) * interval '30 minutes') AT TIME ZONE 'Europe/Berlin')"
            " AS start FROM generate_series(0, :count - 1) g",
        )
        conn.exec_driver_sql(
            "INSERT INTO booking_slot (unit_id, slot_start, booking_id) "
            "SELECT b.resource_id, b.starts_at + n * interval '15 minutes', b.id "
            "FROM booking b CROSS JOIN generate_series(0, 5) n"
        )
        db.session.commit()
        hall_id = hall.id
        print(f"loaded {bookings} bookings in {time.monotonic() - started:.0f} s", flush=True)
        db.engine.dispose()
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return hall_id


def run_loop(base: str, paths: list[str], duration: int) -> dict:
    """wrk's figures from a Python loop: ``LOOP_THREADS`` keep-alive connections."""
    address = urlsplit(base)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        mine, failed = [], 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", rnd.choice(paths))
                response = conn.getresponse()
                response.read()
                failed += response.status != 200
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(LOOP_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> int:
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1e6)

    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "p50_us": pct(0.50),
        "p95_us": pct(0.95),
        "max_us": int(latencies[-1] * 1e6),
        "errors": errors[0],
        "rps": len(latencies) / elapsed,
    }


def measure(server, base: str, paths: list[str], args, workdir: Path) -> dict:
    load = shutil.which("wrk") and run_wrk or (lambda b, p, d, _w: run_loop(b, p, d))
    load(base, paths, 2, workdir)  # warm-up: connections, caches
    drain(server)
    cpu = server_cpu_seconds(server.pid)
    before = os.getloadavg()[0]
    result = load(base, paths, args.duration, workdir)
    result["load"] = max(before, os.getloadavg()[0])
    drain(server)
    result["cpu_ms"] = (server_cpu_seconds(server.pid) - cpu) * 1000 / max(1, result["requests"])
    return result


def month_paths(hall_id: int, months: int = 12) -> list[str]:
    """A month (31 days) of the hall's availability, from each of the next months."""
    from datetime import date, timedelta

    today = date.today()
    paths = []
    for n in range(months):
        first = (today.replace(day=1) + timedelta(days=32 * n)).replace(day=1)
        last = first + timedelta(days=30)
        paths.append(f"/api/v1/resources/{hall_id}/availability?from={first}&to={last}")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=50_000)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-availability-") as tmp:
        workdir = Path(tmp)
        instance = workdir / "instance"
        instance.mkdir()
        try:
            database_url = postgres_url(PG_DATABASE)
            hall_id = populate(database_url, instance, args.bookings)
            env = {
                **os.environ,
                "BENCH_DATABASE_URL": database_url,
                "BENCH_INSTANCE": str(instance),
            }
            servers = []
            try:
                pure, pure_base = start_server("bench_public:pure_app()", env, args.workers)
                servers.append(pure)
                lotse, lotse_base = start_server(
                    "bench_availability:lotse_app()", env, args.workers
                )
                servers.append(lotse)
                wait_until_up(pure_base + "/bench/bare")
                paths = month_paths(hall_id)
                wait_until_up(lotse_base + paths[0])
                results = {
                    "pure Flask": measure(pure, pure_base, ["/bench/bare"], args, workdir),
                    "availability month": measure(lotse, lotse_base, paths, args, workdir),
                    "plan month": measure(
                        lotse,
                        lotse_base,
                        [
                            p.replace(
                                f"resources/{hall_id}/availability?", f"plan?resource_id={hall_id}&"
                            )
                            for p in paths
                        ],
                        args,
                        workdir,
                    ),
                }
            finally:
                for server in servers:
                    server.terminate()
                    server.wait(timeout=30)
        finally:
            drop_postgres(PG_DATABASE)
    bare = results["pure Flask"]["rps"]
    driver = (
        "wrk 16 connections" if shutil.which("wrk") else f"Python loop {LOOP_THREADS} connections"
    )
    rows = [
        f"{args.bookings} bookings of a three-part hall, PostgreSQL; gunicorn {args.workers} sync "
        f"workers; {driver}, {args.duration} s per endpoint; {os.cpu_count()} cores",
        f"{'endpoint':<19} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
        f"{'CPU ms':>7} {'share':>6} {'load':>5} {'err':>4}",
    ]
    for name, result in results.items():
        share = result["rps"] / bare
        rows.append(
            f"{name:<19} {result['rps']:>7.0f} {result['p50_us'] / 1000:>7.1f} "
            f"{result['p95_us'] / 1000:>7.1f} {result['max_us'] / 1000:>7.0f} "
            f"{result['cpu_ms']:>7.2f} {share:>6.0%} {result['load']:>5.1f} "
            f"{result['errors']:>4}"
        )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
