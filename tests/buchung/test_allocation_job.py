"""Saisonvergabe: publishing runs as a background job in a real worker; the sweep revives it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from buchung.allocation.models import Allocation, AllocationRound
from buchung.club_models import BookingSeries
from buchung.models import Booking
from lotse.extensions import db
from lotse.models import utcnow
from tests.buchung.allocation_helpers import end_deadline
from tests.buchung.test_allocation import CLUBS, apply_all, post
from tests.buchung.test_allocation import scenario as scenario  # noqa: F401 - the fixture
from tests.sinks import SmtpSink


@pytest.fixture
def smtp():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def app(make_app, redis_url, smtp):
    return make_app(REDIS_URL=redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)


def burst_worker(app, database_url: str) -> None:
    """A real ``flask lotse worker --burst`` process on this test's database and queue."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOTSE_PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "LOTSE_QUEUE_NAME": app.config["QUEUE_NAME"],
        "LOTSE_MAIL_SERVER": "127.0.0.1",
        "LOTSE_MAIL_PORT": str(app.config["MAIL_PORT"]),
    }
    worker = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "lotse", "worker", "--burst"],
        cwd=Path(__file__).parents[2],
        env=env,
        capture_output=True,
        timeout=180,
    )
    assert worker.returncode == 0, worker.stderr.decode()


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Allocation)),
            db.session.scalar(select(func.count()).select_from(BookingSeries)),
            db.session.scalar(select(func.count()).select_from(Booking)),
        )


@pytest.mark.parametrize("db_backend", ["postgres"], indirect=True)
def test_worker_publishes_and_sweep_revives_a_stuck_round(
    app,
    client,
    office,
    scenario,  # noqa: F811
    smtp,
    database_url,
):
    s = scenario
    apply_all(app, s)
    end_deadline(app, s["round"])
    office()
    round_url = f"/verwaltung/buchung/vergabe/{s['round']}"
    post(client, f"{round_url}/vorschlag", page=round_url)

    # The click only hands the work to the queue: the page says so, nothing is booked yet.
    response = post(client, f"{round_url}/veroeffentlichen", page=round_url)
    assert response.status_code == 302
    page = client.get(round_url).get_data(as_text=True)
    assert "Die Runde wird veröffentlicht." in page
    assert '<meta http-equiv="refresh"' in page
    allocations, series, bookings = counts(app)
    assert allocations and (series, bookings) == (0, 0)

    burst_worker(app, database_url)
    page = client.get(round_url).get_data(as_text=True)
    assert "Veröffentlicht am" in page and "wird veröffentlicht" not in page
    _, series, bookings = counts(app)
    assert series == allocations and bookings
    results = [m for m in smtp.messages if m["Subject"].startswith("Ergebnis der Saisonvergabe")]
    assert sorted(m["To"] for m in results) == sorted(e for _n, e in CLUBS.values())
    # Each application's receipt went through the same queue, once.
    receipts = [m for m in smtp.messages if m["Subject"].startswith("Antrag eingegangen")]
    assert len(receipts) == 5 and len(smtp.messages) == len(results) + len(receipts)

    # A worker died while publishing: the round stays "wird veröffentlicht"; after a while
    # the sweep hands it to the queue again, and the next worker books nothing twice.
    with app.app_context():
        db.session.execute(
            update(AllocationRound)
            .where(AllocationRound.id == s["round"])
            .values(state="publishing", job_queued_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
    app.test_cli_runner().invoke(args=["lotse", "sweep"])
    burst_worker(app, database_url)
    assert "Die Runde wird veröffentlicht." in client.get(round_url).get_data(as_text=True)
    with app.app_context():
        db.session.execute(
            update(AllocationRound)
            .where(AllocationRound.id == s["round"])
            .values(job_queued_at=utcnow() - timedelta(minutes=31))
        )
        db.session.commit()
    app.test_cli_runner().invoke(args=["lotse", "sweep"])
    burst_worker(app, database_url)
    assert "Veröffentlicht am" in client.get(round_url).get_data(as_text=True)
    assert counts(app) == (allocations, series, bookings)
    assert len(smtp.messages) == len(CLUBS) + len(receipts)
