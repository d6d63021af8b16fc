"""Staff inbox with 100 000 reports: p95 of the default list and of a filtered search.

    .venv/bin/python bench/bench_inbox.py [--reports 100000] [--requests 200]
                                          [--backends sqlite,postgres]

For each database the script fills a fresh database (PostgreSQL: a throw-away database,
dropped afterwards) with reports spread over six departments, logs in a clerk of one
department and an admin, and times whole requests through Flask's test client (routing,
login, queries including the page count, template).  Target (issue 5): p95 ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_geojson import store_reports  # noqa: E402 - after the path is set

PG_ADMIN_URL = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = "lotse_bench_inbox"
TARGET_P95_MS = 150
WORDS = ["Schlagloch", "Laterne", "Müll", "Graffiti", "Ampel", "Gully", "Baum", "Schild"]
STREETS = ["Hauptstraße", "Schulstraße", "Am Markt", "Kölner Straße", "Wiesenweg"]
PASSWORD = "bench password 123"  # noqa: S105 - throw-away benchmark account


def populate(app, reports: int) -> None:
    """Departments, categories, two staff accounts and ``reports`` reports."""
    from lotse.cli import create_staff_user
    from lotse.extensions import db
    from lotse.models import Department, utcnow
    from mangel.models import Category, ReportStatus, map_cell

    rnd = random.Random(5)
    with app.app_context():
        db.create_all()
        departments = [Department(name=f"Abteilung {i}", email=f"a{i}@x.example") for i in range(6)]
        main = Category(name="Alles")
        leaves = [Category(name=w, parent=main, department=rnd.choice(departments)) for w in WORDS]
        db.session.add_all([*departments, main, *leaves])
        db.session.flush()
        create_staff_user("clerk@x.example", "Clerk", PASSWORD, ["clerk"], [departments[0]])
        create_staff_user("admin@x.example", "Admin", PASSWORD, ["admin"], [])
        now, statuses = utcnow(), [s.value for s in ReportStatus]
        rows = []
        for _ in range(reports):
            leaf, created = rnd.choice(leaves), now - timedelta(days=rnd.uniform(0, 700))
            lat, lon = 50.75 + rnd.uniform(-0.03, 0.03), 6.49 + rnd.uniform(-0.05, 0.05)
            rows.append(
                {
                    "category_id": leaf.id,
                    "department_id": rnd.choice(departments).id,
                    "status": rnd.choice(statuses),
                    "lat": lat,
                    "lon": lon,
                    "map_cell": map_cell(lat, lon),
                    "street": rnd.choice(STREETS),
                    "description": f"{rnd.choice(WORDS)} {rnd.choice(WORDS).lower()} seit "
                    f"{rnd.randint(1, 30)} Tagen, Nr. {rnd.randint(1, 99999)}",
                    "created_at": created,
                    "updated_at": created,
                    "confirmed_at": created,
                    "priority": 0,
                    "hidden": False,
                }
            )
        store_reports(rows)


def p95(client, urls: list[str], requests: int) -> tuple[float, float]:
    """p95 of the wall-clock time and of this process's CPU time per request, in ms.

    On a shared machine the wall clock counts the waits for a CPU too; the CPU time of
    the web process does not (PostgreSQL's own work is in the wall clock only).
    """
    walls, cpus = [], []
    for i in range(requests):
        start, cpu = time.perf_counter(), time.process_time()
        response = client.get(urls[i % len(urls)])
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.quantiles(walls, n=20)[18], statistics.quantiles(cpus, n=20)[18]


def run(backend: str, database_url: str, reports: int, requests: int) -> None:
    from lotse import create_app

    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "bench",
        "RATELIMIT_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "WTF_CSRF_ENABLED": False,
    }
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(config, instance_path=instance)
        started = time.perf_counter()
        populate(app, reports)
        print(
            f"{backend}: {reports} reports stored in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        base = "/verwaltung/maengel/meldungen/"
        cases = {
            "default list": [base, f"{base}?page=2", f"{base}?sort=alt"],
            "filtered search": [
                f"{base}?q={w.lower()}&status=alle&department={{dep}}" for w in WORDS
            ],
            "search, plural": [f"{base}?q=schlaglöcher", f"{base}?q=laternen&status=alle"],
        }
        for who in ("clerk", "admin"):
            client = app.test_client()
            client.post("/anmelden", data={"email": f"{who}@x.example", "password": PASSWORD})
            with app.app_context():
                from lotse.extensions import db
                from lotse.models import User

                user = db.session.scalar(db.select(User).filter_by(email=f"{who}@x.example"))
                dep = min(user.department_ids() or {1})
            for name, urls in cases.items():
                urls = [u.format(dep=dep) for u in urls]
                client.get(urls[0])  # warm caches
                wall, cpu = p95(client, urls, requests)
                verdict = "ok" if wall <= TARGET_P95_MS else "OVER TARGET"
                load = os.getloadavg()[0]
                print(
                    f"{backend:8} {who:5} {name:15} p95 {wall:6.1f} ms wall ({verdict}), "
                    f"{cpu:6.1f} ms CPU of the web process; load average {load:.1f}",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as folder:
            run("sqlite", f"sqlite:///{folder}/bench.sqlite3", args.reports, args.requests)
    if "postgres" in backends:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
        url = make_url(PG_ADMIN_URL).set(database=PG_DATABASE).render_as_string(False)
        try:
            run("postgres", url, args.reports, args.requests)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
