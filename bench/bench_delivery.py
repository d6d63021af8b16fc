"""Delivery through RQ: deliveries per second with 2 workers, and the enqueue overhead.

    .venv/bin/python bench/bench_delivery.py [--reports 10000] [--workers 2]

Needs the machine's PostgreSQL and Redis (``TEST_DATABASE_URL``/``TEST_REDIS_URL`` as in the
tests).  A throw-away database gets N reports; each is confirmed the way the confirmation
view does it (routing, the ``Delivery`` row, commit, enqueue after the commit), timing the
enqueue that the after-commit hook adds to the request.  Then ``flask lotse worker --burst``
processes (real RQ workers) mail every delivery to a local aiosmtpd sink, and the
throughput is deliveries marked ``sent`` per second of wall clock.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lotse import create_app  # noqa: E402
from lotse.extensions import db  # noqa: E402
from lotse.models import Department, utcnow  # noqa: E402
from mangel import services  # noqa: E402
from mangel.models import Category, Report  # noqa: E402
from mangel.routing import delivery  # noqa: E402
from mangel.routing.models import Delivery  # noqa: E402
from tests.sinks import SmtpSink  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--simple", action="store_true", help="flask lotse worker --simple")
    args = parser.parse_args()

    name = f"lotse_bench_delivery_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    queue = f"lotse-bench-{name}"
    try:
        with SmtpSink() as smtp:
            run(args, url, queue, smtp)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(args, url: str, queue: str, smtp: SmtpSink) -> None:
    config = {
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": url,
        "REDIS_URL": REDIS_URL,
        "QUEUE_NAME": queue,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    app = create_app(config)
    enqueue_ms: list[float] = []
    confirm_ms: list[float] = []
    timed_enqueue = delivery.enqueue_deliveries

    def measured(due):
        started = time.perf_counter()
        try:
            return timed_enqueue(due)
        finally:
            enqueue_ms.append((time.perf_counter() - started) * 1000)

    delivery.enqueue_deliveries = measured  # the after-commit hook looks it up at call time
    with app.app_context():
        db.create_all()
        department = Department(name="Tiefbau", email="tiefbau@bench.example")
        category = Category(name="Schlagloch", department=department)
        db.session.add(category)
        db.session.flush()
        db.session.add_all(
            Report(category_id=category.id, lat=50.75, lon=6.49, reporter_email="b@bench.example")
            for _ in range(args.reports)
        )
        db.session.commit()
        ids = db.session.scalars(select(Report.id)).all()
        for report_id in ids:
            started = time.perf_counter()
            services.confirm_report(db.session.get(Report, report_id))
            db.session.commit()
            confirm_ms.append((time.perf_counter() - started) * 1000)
            db.session.expunge_all()

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LOTSE_PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": "bench",
        "LOTSE_QUEUE_NAME": queue,
        "LOTSE_MAIL_SERVER": "127.0.0.1",
        "LOTSE_MAIL_PORT": str(smtp.port),
    }
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "lotse", "worker", "--burst"]
            + (["--simple"] if args.simple else []),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(args.workers)
    ]
    for worker in workers:
        worker.wait()
    elapsed = time.perf_counter() - started
    with app.app_context():
        sent = db.session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.state == "sent")
        )
        db.engine.dispose()
    print(
        f"reports confirmed: {len(ids)}, deliveries sent: {sent}, mails at sink: {len(smtp.messages)}"
    )
    print(
        f"throughput with {args.workers} RQ workers{' (--simple)' if args.simple else ''}: {sent / elapsed:.1f} deliveries/s "
        f"({elapsed:.1f} s wall clock, worker start-up included)"
    )
    print(
        f"enqueue after commit: p50 {statistics.median(enqueue_ms):.2f} ms, "
        f"p95 {p95(enqueue_ms):.2f} ms"
    )
    print(
        f"confirm + route + commit + enqueue: p50 {statistics.median(confirm_ms):.2f} ms, "
        f"p95 {p95(confirm_ms):.2f} ms"
    )
    print(f"finished {utcnow():%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
