"""The production drill, short: one minute of mixed load through every fault, nothing lost.

Runs ``bench/drill.py``'s drill for 60 s (gunicorn, two RQ workers, sweep cron, PostgreSQL,
a Redis of its own, SMTP and webhook sinks) with kill -9 of an RQ worker and of a gunicorn
worker, Redis stopped, the SMTP server refusing and a graceful restart, then checks every
delivery, every kind of mail in the outbox and every booking against the database.  The
drain after the load waits for nothing left (a condition, checked every second) up to a
generous deadline; any item left is listed with its state and last error.  The full run is
``python bench/drill.py --duration 600``.
"""

from __future__ import annotations

import pytest

from bench.drill import run_drill
from bench.drill_stack import services_missing
from tests.conftest import service_unavailable

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def test_one_minute_of_load_and_faults_loses_and_duplicates_nothing():
    missing = services_missing()
    if missing:
        service_unavailable("drill services", missing)
    result = run_drill(60, users=8, drain=300)
    print(result.text)  # the figures (drain time, load average) with -s or -rA
    failed = [f"{c.name}: {c.figure}" for c in result.checks if not c.passed]
    assert result.passed, "\n".join(failed) + "\n\n" + result.text
