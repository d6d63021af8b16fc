"""20 people book the same slot at the same moment through a real gunicorn server.

Exactly one booking is stored; every other visitor gets the clear "gerade vergeben"
conflict (HTTP 409 with the re-rendered form), never a server error.  Runs on a SQLite
file database in WAL mode and on PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from buchung.models import Booking, BookingSlot
from lotse.config import PROJECT_DIR
from lotse.extensions import db
from tests.buchung.conftest import next_weekday
from tests.buchung.test_rules import booking_data
from tests.conftest import csrf_token_from

pytestmark = [pytest.mark.both_dbs, pytest.mark.slow]

CLIENTS = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(database_url: str, app, tmp_path: Path):
    """gunicorn with 4 worker processes × 5 threads on this test's database."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LOTSE_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="race-secret",
        LOTSE_INSTANCE_PATH=str(tmp_path / "server"),
        LOTSE_PUBLIC_BASE_URL="http://localhost",
        LOTSE_EMBEDDED_SWEEP="false",
        LOTSE_SESSION_COOKIE_SECURE="false",
        LOTSE_BUCHUNG_LIMIT_PER_IP='"1000 per minute"',
    )
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--no-control-socket",
            "--workers",
            "4",
            "--threads",
            "5",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # 4 workers import the app at once; slow on 2 busy cores
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        log.close()


def test_twenty_simultaneous_requests_one_booking(app, server, make_resource):
    resource_id = make_resource()
    url = f"{server}/buchung/{resource_id}/buchen"
    barrier = threading.Barrier(CLIENTS)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def visitor(n: int) -> None:
        with requests.Session() as session:
            token = csrf_token_from(session.get(url, timeout=30).text)
            data = booking_data(
                next_weekday(4), contact_email=f"gast{n}@example.org", csrf_token=token
            )
            barrier.wait(timeout=30)
            response = session.post(url, data=data, allow_redirects=False, timeout=60)
        with lock:
            results.append((response.status_code, response.text))

    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    codes = sorted(code for code, _text in results)
    assert len(results) == CLIENTS
    assert codes == [302] + [409] * (CLIENTS - 1), codes
    for code, text in results:
        if code == 409:
            assert "Dieser Termin ist gerade vergeben." in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
        assert db.session.scalar(select(func.count()).select_from(BookingSlot)) == 4
