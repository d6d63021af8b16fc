"""Alert matching: 10 000 subscriptions against 1 000 new reports — time per report.

    .venv/bin/python bench/bench_alerts.py [--subscriptions 10000] [--reports 1000]
                                           [--backends sqlite,postgres]

Subscriptions are spread over a Kreis (about 45 × 40 km, 3 000 streets, 200 Ortsteile) as the
form makes them: 60 % circles (100–1000 m), 25 % streets, 15 % areas, a third with a category
choice, a fifth as daily digests.  For each report the script runs exactly what confirming a report runs
(``mangel.alerts.services.notify``: candidates from the database, exact check in Python, an
outbox row or a digest entry per match) inside a transaction that is rolled back, so every
report meets the same 10 000 subscriptions.  Baseline in the same run: the same reports
against an empty subscription table (the fixed cost of asking).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = "lotse_bench_alerts"
STREETS = [f"Straße {i}" for i in range(3000)]
CENTRE = (50.75, 6.49)


def _point(rnd: random.Random) -> tuple[float, float]:
    """A point in a Kreis of about 45 × 40 km around Düren."""
    return CENTRE[0] + rnd.uniform(-0.2, 0.2), CENTRE[1] + rnd.uniform(-0.3, 0.3)


def populate(app) -> tuple[list[dict], list[int], list[int]]:
    """Categories and 20 areas; returns report specs, leaf category ids and area ids."""
    from shapely.geometry import box

    from lotse.extensions import db
    from lotse.models import Department
    from mangel.models import Category
    from mangel.routing.areas import store_area

    rnd = random.Random(26)
    with app.app_context():
        db.create_all()
        department = Department(name="Tiefbau", email="t@x.example")
        main = Category(name="Straße")
        leaves = [Category(name=f"K{i}", parent=main, department=department) for i in range(8)]
        db.session.add_all([department, main, *leaves])
        areas = []
        for i in range(200):
            lat, lon = _point(rnd)
            box_ = box(lon - 0.01, lat - 0.006, lon + 0.01, lat + 0.006)
            areas.append(store_area(f"Ortsteil {i}", box_))
        db.session.commit()
        specs = [
            {"category_id": leaves[i % 8].id, "point": _point(rnd), "street": rnd.choice(STREETS)}
            for i in range(2000)
        ]
        return specs, [leaf.id for leaf in leaves], [area.id for area in areas]


def subscribe(app, subscriptions: int, leaf_ids: list[int], area_ids: list[int]) -> None:
    """Confirmed subscriptions spread as the form makes them."""
    from lotse.extensions import db
    from lotse.models import utcnow
    from mangel.alerts.models import AlertSubscription
    from mangel.alerts.services import set_circle, street_key

    rnd = random.Random(27)
    with app.app_context():
        for n in range(subscriptions):
            sub = AlertSubscription(
                email=f"s{n}@x.example",
                label="x",
                confirmed=True,
                on_new=True,
                on_status=rnd.random() < 0.3,
                frequency="daily" if rnd.random() < 0.2 else "immediate",
                category_ids=[rnd.choice(leaf_ids)] if rnd.random() < 0.33 else [],
                created_at=utcnow(),
            )
            kind = rnd.random()
            if kind < 0.6:
                set_circle(sub, *_point(rnd), rnd.choice((100, 250, 500, 1000)))
            elif kind < 0.85:
                sub.kind, sub.street_key = "street", street_key(rnd.choice(STREETS))
            else:
                sub.kind, sub.area_id = "area", rnd.choice(area_ids)
            sub.label = sub.kind
            db.session.add(sub)
        db.session.commit()


def measure(
    app, reports: list[dict], count: int, only_match: bool = False
) -> tuple[list[float], int]:
    from lotse.extensions import db
    from lotse.models import utcnow
    from mangel.alerts.services import matching, notify
    from mangel.models import Report, map_cell

    times, matched = [], 0
    with app.app_context(), app.test_request_context("/"):
        for spec in reports[:count]:
            lat, lon = spec["point"]
            report = Report(
                category_id=spec["category_id"],
                lat=lat,
                lon=lon,
                map_cell=map_cell(lat, lon),
                street=spec["street"],
                confirmed_at=utcnow(),
            )
            db.session.add(report)
            db.session.flush()
            started = time.perf_counter()
            matched += len(matching(report, "new")) if only_match else notify(report, "new")
            db.session.flush()
            times.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
    return times, matched


def run(url: str, label: str, subscriptions: int, reports: int) -> None:
    from lotse import create_app

    with tempfile.TemporaryDirectory() as instance:
        config = {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "bench"}
        app = create_app(config, instance_path=instance)
        specs, leaf_ids, area_ids = populate(app)
        base, _ = measure(app, specs, reports)  # no subscriptions yet: the fixed cost
        subscribe(app, subscriptions, leaf_ids, area_ids)
        match_times, _ = measure(app, specs, reports, only_match=True)
        times, matched = measure(app, specs, reports)
    b50 = statistics.median(base)
    for name, values in (("matching only", match_times), ("matching + mails", times)):
        p50, p95 = statistics.median(values), statistics.quantiles(values, n=20)[18]
        print(
            f"{label:10} {subscriptions} subscriptions × {reports} reports, {name}: per report "
            f"p50 {p50:.2f} ms, p95 {p95:.2f} ms, mean {statistics.fmean(values):.2f} ms"
        )
    print(
        f"{label:10} {matched / reports:.2f} matches per report; notify against an empty table "
        f"p50 {b50:.2f} ms (the fixed cost)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                run(f"sqlite:///{folder}/alerts.db", "SQLite", args.subscriptions, args.reports)
        else:
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE}"))
                conn.execute(text(f"CREATE DATABASE {PG_DATABASE}"))
            url = make_url(PG_ADMIN_URL).set(database=PG_DATABASE).render_as_string(False)
            try:
                run(url, "PostgreSQL", args.subscriptions, args.reports)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))
                admin.dispose()


if __name__ == "__main__":
    main()
