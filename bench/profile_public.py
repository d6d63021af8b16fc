# ruff: noqa: S608 - SQL built from our own names
"""CPU per request of the public endpoints, in-process: steadier than wrk on a shared machine.

    .venv/bin/python bench/profile_public.py [--reports 100000] [--requests 300]
                                             [--profile open311] [--fresh]

Loads (once; kept between runs unless ``--fresh``) a PostgreSQL database with the same
rows as ``bench_public.py``, then sends each endpoint's requests through Flask's test
client and prints this process's CPU milliseconds per request (``time.process_time``: the
database server's work is not counted, as in the gunicorn figures) beside pure Flask's,
and the Python function calls per request, which a loaded machine does not move.
``--profile NAME`` prints the cProfile top of that endpoint (``all`` for every one);
``--no-cache`` builds every Open311 answer, map answer, list page, week view and
Belegungsplan instead of answering again what it kept.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_public import (  # noqa: E402
    CACHE_SWITCHES,
    PG_ADMIN_URL,
    config,
    endpoints,
    populate,
    pure_app,
)

PG_DATABASE = "lotse_profile_public"


def database(reports: int, bookings: int, fresh: bool, instance: Path):
    """The loaded database's URL and its resource ids (loading it first if needed)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(PG_ADMIN_URL).set(database=PG_DATABASE).render_as_string(hide_password=False)
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_DATABASE}
        )
        if exists and fresh:
            conn.execute(text(f'DROP DATABASE "{PG_DATABASE}" WITH (FORCE)'))
        if not exists or fresh:
            conn.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    admin.dispose()
    if not exists or fresh:
        populate(url, instance, reports, bookings)
    engine = create_engine(url)
    with engine.connect() as conn:
        resource_ids = list(conn.scalars(text("SELECT id FROM resource ORDER BY id")))
    engine.dispose()
    return url, resource_ids


def cpu_per_request(client, paths: list[str], requests: int, profiler=None) -> float:
    """Mean CPU ms of ``requests`` GETs cycling through ``paths`` (after a warm-up round)."""
    for path in paths[:20]:
        assert client.get(path).status_code == 200, path
    started = time.process_time()
    if profiler:
        profiler.enable()
    for n in range(requests):
        response = client.get(paths[n % len(paths)])
        response.close()
    if profiler:
        profiler.disable()
    return (time.process_time() - started) * 1000 / requests


def calls_per_request(client, paths: list[str], requests: int = 20) -> float:
    """Python function calls per request: steady however loaded the machine is."""
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(requests):
        client.get(paths[n % len(paths)]).close()
    profiler.disable()
    return pstats.Stats(profiler).total_calls / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--bookings", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", default="")
    parser.add_argument("--only", default="", help="comma-separated endpoint names")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument(
        "--no-cache", action="store_true", help="build every answer (no kept answers)"
    )
    args = parser.parse_args()
    from lotse import create_app
    from lotse.geo import town_boundary

    with tempfile.TemporaryDirectory(prefix="profile-public-") as tmp:
        instance = Path(tmp)
        url, resource_ids = database(args.reports, args.bookings, args.fresh, instance)
        os.environ.pop("REDIS_URL", None)
        settings = config(url)
        if args.no_cache:
            settings |= dict.fromkeys(CACHE_SWITCHES, 0)
        app = create_app(settings, instance_path=str(instance))
        with app.app_context():
            bounds = town_boundary().bounds
        lotse = app.test_client()
        pure = pure_app().test_client()
        bare = cpu_per_request(pure, ["/bench/bare"], args.requests * 3)
        bare_calls = calls_per_request(pure, ["/bench/bare"])
        print(
            f"{'endpoint':<17} {'CPU ms':>7} {'× pure':>7} {'calls':>9}"
            f"   (pure Flask {bare:.3f} ms, {bare_calls:.0f} calls)"
        )
        only = {n.strip() for n in args.only.split(",") if n.strip()}
        table = endpoints(bounds, resource_ids)
        table["belegungsplan"] = [f"/buchung/{rid}/belegungsplan" for rid in resource_ids]
        for name, paths in table.items():
            if only and not any(o in name for o in only):
                continue
            profiler = (
                cProfile.Profile(time.process_time)
                if args.profile in (name, "all") or (args.profile and args.profile in name)
                else None
            )
            cpu = cpu_per_request(lotse, paths, args.requests, profiler)
            calls = calls_per_request(lotse, paths)
            print(f"{name:<17} {cpu:>7.2f} {cpu / bare:>7.1f} {calls:>9.0f}", flush=True)
            if profiler:
                stats = pstats.Stats(profiler).strip_dirs().sort_stats("cumulative")
                stats.print_stats(45)
                stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
