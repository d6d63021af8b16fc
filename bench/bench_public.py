# ruff: noqa: S608, S106 - SQL built from our own table names and numbers; a throw-away token
"""Public endpoints at Land scale: 1 000 000 reports, 50 000 bookings, beside pure Flask.

    .venv/bin/python bench/bench_public.py [--reports 1000000] [--bookings 50000]
                                           [--duration 8] [--workers 2]

Fills a throw-away PostgreSQL database fast (schema from the models, a prototype row per
table through the ORM, then ``INSERT … SELECT`` from ``generate_series``, no ORM per row),
counts the map clusters once, and starts two gunicorn servers with the same settings
(``--workers`` sync workers, loopback): a pure Flask app with one JSON route, and Lotse.
``wrk`` (16 connections) drives each endpoint in turn; the table gives req/s, p50/p95,
the largest latency, server CPU per request (gunicorn's processes, from /proc) and the
share of pure Flask's req/s, all from the same run.  The load average is printed beside it:
on a shared machine req/s move with it, CPU per request much less.

Targets (issue 24, at 1M reports, 16 connections, 2 cores): start page ≥ 50 % of pure
Flask; karte.json ≥ 35 %, p95 ≤ 40 ms, no request over 200 ms; /maengel/ p95 ≤ 60 ms;
Open311 1 000-result list ≥ 60 req/s and p95 ≤ 400 ms; week view ≥ 20 % of pure Flask.
The SQLite inbox search target is measured by ``bench/bench_inbox.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_geojson import (  # noqa: E402 - after the path is set
    CONNECTIONS,
    free_port,
    server_cpu_seconds,
    view_paths,
)

PG_ADMIN_URL = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = "lotse_bench_public"
RESOURCES = 20
WRK_SCRIPT = """
local paths = {%s}
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "max_us": %%d, "errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency.max, e.connect + e.read + e.write + e.timeout + e.status))
end
"""
# name → (target share of pure Flask, target p95 ms, target req/s, target max ms)
TARGETS = {
    "/ start page": (0.50, None, None, None),
    "karte.json bbox": (0.35, 40, None, 200),
    "/maengel/ list": (None, 60, None, None),
    "open311 1000": (None, 400, 60, None),
    "week view": (0.20, None, None, None),
}


# Answers kept for a few seconds (lotse/cache.py): set to 0 for the "built" rows.
CACHE_SWITCHES = (
    "OPEN311_CACHE_SECONDS",
    "MANGEL_MAP_CACHE_SECONDS",
    "MANGEL_LIST_CACHE_SECONDS",
    "BUCHUNG_PAGE_CACHE_SECONDS",
)


def config(database_url: str) -> dict:
    """Lotse's settings; with ``BENCH_REDIS_URL`` as production runs it (kept answers and
    generations shared by the workers), ``BENCH_NO_CACHE=1`` builds every answer."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "bench",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SESSION_COOKIE_SECURE": False,
    }
    if os.environ.get("BENCH_REDIS_URL"):
        settings["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
        settings["RATELIMIT_KEY_PREFIX"] = os.environ["BENCH_KEY_PREFIX"]
    if os.environ.get("BENCH_NO_CACHE") == "1":
        settings.update(dict.fromkeys(CACHE_SWITCHES, 0))
    return settings


def pure_app():
    """gunicorn factory: Flask with one JSON route and nothing else."""
    from flask import Flask

    app = Flask("pure")

    @app.route("/bench/bare")
    def bare():
        return {"type": "FeatureCollection", "features": []}

    gc.freeze()  # as deploy/gunicorn.conf.py does before forking (see lotse_app)
    return app


def lotse_app():
    """gunicorn factory: Lotse as deployed, on the benchmark database."""
    from lotse import create_app

    app = create_app(
        config(os.environ["BENCH_DATABASE_URL"]), instance_path=os.environ["BENCH_INSTANCE"]
    )
    # deploy/gunicorn.conf.py freezes the preloaded app before forking: the collector then
    # never walks its ~260 000 objects (a full collection took 150–400 ms, the map's spikes).
    gc.freeze()
    return app


def _copy_rows(
    conn,
    table,
    prototype_id: int,
    count: int,
    values: dict[str, str],
    source: str,
    *,
    reindex=False,
):
    """``count`` copies of a prototype row, with ``values`` (SQL over ``g``, ``s``) changed.

    With ``reindex`` the table's indexes are dropped for the copy and built afterwards:
    building an index once is much faster than updating it a million times.
    """
    from sqlalchemy import text

    indexes = list(table.indexes) if reindex else []
    for index in indexes:
        index.drop(conn)
    columns = [c.name for c in table.columns if c.name != "id"]
    select_list = ", ".join(values.get(c, f"p.{c}") for c in columns)
    conn.execute(
        text(
            f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - our own names
            f"SELECT {select_list} FROM ({source}) s "
            f"CROSS JOIN (SELECT * FROM {table.name} WHERE id = :proto) p"
        ),
        {"proto": prototype_id, "count": count},
    )
    conn.execute(text(f"DELETE FROM {table.name} WHERE id = :proto"), {"proto": prototype_id})
    for index in indexes:
        index.create(conn)


def populate(database_url: str, instance: Path, reports: int, bookings: int) -> tuple:
    """Schema, categories, resources; then reports and bookings straight in SQL."""
    from datetime import timedelta

    from shapely.geometry import box  # noqa: F401 - the geo stack must be there

    from buchung.models import Booking, OpeningHours, Resource
    from lotse import create_app
    from lotse.extensions import db
    from lotse.geo import town_boundary
    from lotse.models import Department, utcnow
    from mangel.demo import seed_categories
    from mangel.mapdata import rebuild_clusters
    from mangel.models import Report, ReportStatus

    app = create_app(config(database_url), instance_path=str(instance))
    with app.app_context():
        db.create_all()
        for name in ("Tiefbau", "Grünflächen", "Ordnungsamt", "Bauhof/Winterdienst"):
            db.session.add(Department(name=name, email=f"{len(name)}@bench.example"))
        sport = Department(name="Sport- und Bäderamt", email="sport@bench.example")
        db.session.add(sport)
        db.session.flush()
        leaves = [c.id for c in seed_categories()]
        resources = []
        for n in range(RESOURCES):
            resource = Resource(
                name=f"Halle {n + 1}",
                kind="gym",
                slot_minutes=30,
                min_minutes=30,
                max_minutes=480,
                horizon_days=800,
                capacity=50,
                department=sport,
            )
            resource.opening_hours = [
                OpeningHours(weekday=d, opens_minute=6 * 60, closes_minute=23 * 60)
                for d in range(7)
            ]
            resources.append(resource)
        db.session.add_all(resources)
        db.session.flush()
        now = utcnow()
        report = Report(category_id=leaves[0], lat=50.75, lon=6.49, confirmed_at=now)
        booking = Booking(
            resource_id=resources[0].id,
            starts_at=now - timedelta(days=3000),
            ends_at=now - timedelta(days=3000) + timedelta(minutes=90),
            status="confirmed",
            purpose="Training",
            token="prototype",
        )
        db.session.add_all([report, booking])
        db.session.flush()  # one commit at the end: bookings must own their slots by then
        west, south, east, north = town_boundary().bounds
        statuses = ",".join(f"'{s.value}'" for s in ReportStatus)
        conn = db.session.connection()
        started = time.monotonic()
        _copy_rows(
            conn,
            Report.__table__,
            report.id,
            reports,
            {
                "category_id": f"(ARRAY{leaves})[1 + g % {len(leaves)}]",
                "status": f"(ARRAY[{statuses}])[1 + (g / 7) % {len(ReportStatus)}]",
                "lat": "s.lat",
                "lon": "s.lon",
                "map_cell": "floor((s.lat + 90) / 0.005)::bigint * 100000"
                " + floor((s.lon + 180) / 0.005)::bigint",
                "description": "'Tiefes Schlagloch vor Hausnummer ' || g",
                "street": "(ARRAY['Hauptstraße','Schulstraße','Am Markt','Wiesenweg'])[1 + g % 4]",
                "created_at": "stamp",
                "updated_at": "stamp",
                "confirmed_at": "stamp",
                "hidden": "g % 500 = 0",
            },
            f"SELECT g, {south} + random() * {north - south} AS lat, "
            f"{west} + random() * {east - west} AS lon, "
            "now() - (g % 700) * interval '1 day' - random() * interval '1 day' AS stamp "
            "FROM generate_series(1, :count) g",
            reindex=True,
        )
        resource_ids = [r.id for r in resources]
        _copy_rows(
            conn,
            Booking.__table__,
            booking.id,
            bookings,
            {
                "resource_id": f"(ARRAY{resource_ids})[1 + g % {RESOURCES}]",
                "starts_at": "start",
                "ends_at": "start + interval '90 minutes'",
                "token": "md5(g::text)",
            },
            "SELECT g, date_trunc('day', now()) - interval '250 days'"
            f" + ((g / {RESOURCES}) / 5) * interval '1 day'"
            f" + (8 + 3 * ((g / {RESOURCES}) % 5)) * interval '1 hour' AS start"
            " FROM generate_series(0, :count - 1) g",
        )
        conn.exec_driver_sql(
            "INSERT INTO booking_slot (unit_id, slot_start, booking_id) "
            "SELECT b.resource_id, b.starts_at + n * interval '15 minutes', b.id "
            "FROM booking b CROSS JOIN generate_series(0, 5) n"
        )
        counted = rebuild_clusters(conn)
        db.session.commit()
        print(
            f"loaded {reports} reports ({counted} public on the map), {bookings} bookings "
            f"in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        db.engine.dispose()
    from sqlalchemy import create_engine

    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return (west, south, east, north), resource_ids


def start_server(target: str, env: dict, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--no-control-socket",
            *("--workers", str(workers), "--bind", f"127.0.0.1:{port}"),
            *("--chdir", str(ROOT / "bench"), "--log-level", "warning", target),
        ],
        env=env,
    )
    return server, f"http://127.0.0.1:{port}"


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


def run_wrk(base: str, paths: list[str], duration: int, workdir: Path) -> dict:
    script = workdir / "paths.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
    output = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}s", "--timeout", "10s"]
        + ["-s", str(script), base],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    ).stdout
    match = re.search(r"^RESULT (.*)$", output, re.M)
    if not match:
        raise RuntimeError(output)
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def drain(server: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until the workers have answered what wrk left queued when it stopped.

    With 16 connections on 2 sync workers, slow endpoints leave a backlog in the listen
    queue; measuring the next endpoint before it is worked off would charge it.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = server_cpu_seconds(server.pid)
        time.sleep(0.5)
        if server_cpu_seconds(server.pid) - before < 0.02:
            return


def measure(server: subprocess.Popen, base: str, paths: list[str], args, workdir) -> dict:
    run_wrk(base, paths, 2, workdir)  # warm-up: connections, caches
    drain(server)
    cpu = server_cpu_seconds(server.pid)
    load = os.getloadavg()[0]
    result = run_wrk(base, paths, args.duration, workdir)
    result["load"] = max(load, os.getloadavg()[0])
    drain(server)
    # CPU of the backlog's requests too, divided by all answered ones: what a request costs.
    answered = result["requests"] + CONNECTIONS
    result["cpu_ms"] = (server_cpu_seconds(server.pid) - cpu) * 1000 / answered
    return result


class Writer(threading.Thread):
    """Staff at work while the public reads: ``rate`` committed writes a second, each a
    changed report and a changed booking, through the ORM as the app writes them, so kept
    answers are renewed as often as in a busy installation."""

    def __init__(self, database_url: str, instance: str, rate: float):
        super().__init__(daemon=True)
        self.database_url, self.instance, self.rate = database_url, instance, rate
        self.stop = threading.Event()
        self.writes = 0

    def run(self) -> None:
        from buchung.models import Booking
        from lotse import create_app
        from lotse.extensions import db
        from lotse.models import utcnow
        from mangel.models import Report

        app = create_app(config(self.database_url), instance_path=self.instance)
        rnd = random.Random(5)
        with app.app_context():
            top_report = db.session.scalar(db.select(db.func.max(Report.id)))
            top_booking = db.session.scalar(db.select(db.func.max(Booking.id)))
            while not self.stop.wait(1 / self.rate):
                report = db.session.get(Report, rnd.randint(1, top_report))
                if report is not None:
                    report.updated_at = utcnow()
                booking = db.session.get(Booking, top_booking - rnd.randint(0, 500))
                if booking is not None:
                    booking.purpose = f"Training {self.writes}"
                db.session.commit()
                self.writes += 1
            db.engine.dispose()


def endpoints(bounds, resource_ids: list[int]) -> dict[str, list[str]]:
    rnd = random.Random(11)
    return {
        "/ start page": ["/"],
        "karte.json bbox": view_paths(bounds),
        "/maengel/ list": [f"/maengel/?page={rnd.randint(1, 5)}" for _ in range(50)]
        + [f"/maengel/?status=fixed&page={rnd.randint(1, 3)}" for _ in range(10)],
        "open311 1000": [f"/open311/v2/requests.json?page={p}" for p in (1, 2, 3)],
        "week view": [f"/buchung/{rid}" for rid in resource_ids],
        "Belegungsplan": [f"/buchung/{rid}/belegungsplan" for rid in resource_ids],
    }


# Endpoints whose answers may be kept a few seconds; measured a second time built afresh.
KEPT = ("karte.json bbox", "/maengel/ list", "open311 1000", "week view", "Belegungsplan")


def verdict(name: str, result: dict, share: float) -> str:
    share_min, p95_max, rps_min, max_ms = TARGETS.get(name, (None, None, None, None))
    missed = []
    if share_min is not None and share < share_min:
        missed.append(f"share < {share_min:.0%}")
    if p95_max is not None and result["p95_us"] / 1000 > p95_max:
        missed.append(f"p95 > {p95_max} ms")
    if rps_min is not None and result["rps"] < rps_min:
        missed.append(f"< {rps_min} req/s")
    if max_ms is not None and result["max_us"] / 1000 > max_ms:
        missed.append(f"max > {max_ms} ms")
    if name not in TARGETS:
        return ""
    return "met" if not missed else "MISSED: " + ", ".join(missed)


def postgres_url(database: str = PG_DATABASE) -> str:
    """A fresh, empty database ``database`` on the benchmark's server; its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def drop_postgres(database: str = PG_DATABASE) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--bookings", type=int, default=50_000)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/13",
        help="Redis for kept answers and generations, as in production ('' for none)",
    )
    parser.add_argument(
        "--writes", type=float, default=1.0, help="committed staff writes a second while measuring"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-public-") as tmp:
        workdir = Path(tmp)
        instance = workdir / "instance"
        instance.mkdir()
        try:
            database_url = postgres_url()
            bounds, resource_ids = populate(database_url, instance, args.reports, args.bookings)
            env = {
                **os.environ,
                "BENCH_DATABASE_URL": database_url,
                "BENCH_INSTANCE": str(instance),
                "BENCH_REDIS_URL": args.redis,
                "BENCH_KEY_PREFIX": f"lotse-bench-{os.getpid()}",
            }
            os.environ.update({k: env[k] for k in ("BENCH_REDIS_URL", "BENCH_KEY_PREFIX")})
            paths = endpoints(bounds, resource_ids)
            results = {}
            servers = []
            writer = Writer(database_url, str(instance), args.writes) if args.writes else None
            try:
                pure, pure_base = start_server("bench_public:pure_app()", env, args.workers)
                servers.append(pure)
                lotse, lotse_base = start_server("bench_public:lotse_app()", env, args.workers)
                servers.append(lotse)
                built_env = {**env, "BENCH_NO_CACHE": "1"}
                built, built_base = start_server(
                    "bench_public:lotse_app()", built_env, args.workers
                )
                servers.append(built)
                wait_until_up(pure_base + "/bench/bare")
                wait_until_up(lotse_base + "/")
                wait_until_up(built_base + "/")
                if writer:
                    writer.start()
                results["pure Flask"] = measure(pure, pure_base, ["/bench/bare"], args, workdir)
                for name, endpoint_paths in paths.items():
                    results[name] = measure(lotse, lotse_base, endpoint_paths, args, workdir)
                for name in KEPT:
                    results[f"{name} (built)"] = measure(
                        built, built_base, paths[name], args, workdir
                    )
            finally:
                if writer:
                    writer.stop.set()
                    writer.join(timeout=30)
                for server in servers:
                    server.terminate()
                    server.wait(timeout=30)
        finally:
            drop_postgres()
    bare = results["pure Flask"]["rps"]
    rows.append(
        f"{args.reports} reports, {args.bookings} bookings, PostgreSQL; gunicorn {args.workers} "
        f"sync workers; wrk {CONNECTIONS} connections, {args.duration} s per endpoint; "
        f"{os.cpu_count()} cores; Redis {args.redis or 'none'}; "
        f"{writer.writes if writer else 0} staff writes during the run "
        f"({args.writes:g}/s, each renews the kept answers); "
        "'(built)': the same endpoint with every answer built (kept answers off)"
    )
    rows.append(
        f"{'endpoint':<24} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
        f"{'CPU ms':>7} {'share':>6} {'load':>5} {'err':>4}  target"
    )
    for name, result in results.items():
        share = result["rps"] / bare
        rows.append(
            f"{name:<24} {result['rps']:>7.0f} {result['p50_us'] / 1000:>7.1f} "
            f"{result['p95_us'] / 1000:>7.1f} {result['max_us'] / 1000:>7.0f} "
            f"{result['cpu_ms']:>7.2f} {share:>6.0%} {result['load']:>5.1f} "
            f"{result['errors']:>4}  {verdict(name, result, share)}"
        )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
