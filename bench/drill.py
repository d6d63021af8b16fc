"""Production drill: load, faults and a soak run in which nothing may get lost.

    .venv/bin/python bench/drill.py --duration 600      # the 10-minute drill
    .venv/bin/python bench/drill.py --duration 60       # the short one (tests/drill)

Starts the production stack on this machine (``bench/drill_stack.py``: gunicorn, two RQ
workers with scheduler, a sweep "cron", PostgreSQL, a Redis of its own, SMTP and webhook
sinks), runs the mixed load of ``bench/drill_load.py`` and injects, at fixed fractions of the
run: kill -9 of an RQ worker, Redis stopped (30 s at most), the SMTP sink refusing (60 s at
most), kill -9 of a gunicorn worker, then a graceful restart (SIGTERM to an RQ worker,
SIGHUP to gunicorn).  After the load it lets the workers drain, stops web and workers with
SIGTERM and checks the sinks against the database (``bench/drill_checks.py``).  Prints the
per-endpoint table, the checks, the fault timeline and peak memory; exits 1 when a check
failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.drill_checks import (  # noqa: E402
    Check,
    drill_app,
    kinds_covered,
    outstanding,
    table,
    verify,
)
from bench.drill_load import Load  # noqa: E402
from bench.drill_stack import Stack, child_pids, rss_kib  # noqa: E402
from lotse.extensions import db  # noqa: E402


@dataclass
class Result:
    passed: bool
    text: str
    checks: list[Check] = field(default_factory=list)
    drained: float = 0.0  # seconds from the end of the load until nothing was left


class Memory:
    """Peak resident memory of the web and worker processes, sampled every second."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.web_total = self.web_process = self.worker_total = self.worker_process = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stop.wait(1.0):
            web = [self.stack.web.pid, *child_pids(self.stack.web.pid)]
            web_rss = [rss_kib(pid) for pid in web]
            worker_rss = [rss_kib(w.pid) for w in list(self.stack.workers)]
            self.web_total = max(self.web_total, sum(web_rss))
            self.web_process = max(self.web_process, *web_rss)
            self.worker_total = max(self.worker_total, sum(worker_rss, 0))
            self.worker_process = max(self.worker_process, *worker_rss, 0)

    def summary(self) -> str:
        mib = 1024
        return (
            f"peak memory: web {self.web_total / mib:.0f} MiB in all "
            f"(largest process {self.web_process / mib:.0f} MiB), RQ workers "
            f"{self.worker_total / mib:.0f} MiB in all (largest {self.worker_process / mib:.0f} MiB)"
        )


def fault_plan(stack: Stack, seconds: float) -> list[tuple[float, str, object]]:
    """(second, name, action) of every fault, scaled to the length of the run."""
    redis_down = min(30.0, seconds / 4)
    smtp_refusing = min(60.0, seconds / 5)
    # The short drill spares the worker running RQ's scheduler, whose take-over alone
    # takes a minute or two; the long one kills it.
    long_run = seconds >= 300
    return [
        (0.08 * seconds, "kill -9 RQ worker", lambda: stack.kill_worker(oldest=long_run)),
        (0.15 * seconds, "Redis stopped", stack.stop_redis),
        (0.15 * seconds + redis_down, "Redis restarted", stack.restart_redis),
        (0.45 * seconds, "SMTP refuses", lambda: stack.smtp_refuse(True)),
        (0.45 * seconds + smtp_refusing, "SMTP accepts", lambda: stack.smtp_refuse(False)),
        (0.72 * seconds, "kill -9 gunicorn worker", stack.kill_web_worker),
        (0.80 * seconds, "SIGTERM RQ worker", stack.terminate_worker),
        (0.85 * seconds, "SIGHUP gunicorn", stack.reload_web),
    ]


def run_faults(plan, started: float, stop: threading.Event) -> None:
    for at, _name, action in plan:
        if stop.wait(max(0.0, started + at - time.monotonic())):
            return
        action()


def run_drill(
    seconds: float, users: int = 12, web_workers: int = 4, drain: float = 300, keep_logs=False
) -> Result:
    """Start the stack, load it through the faults, drain, shut down, check; the printout."""
    stack = Stack(web_workers=web_workers, sweep_every=5.0 if seconds < 120 else 10.0)
    out: list[str] = []
    try:
        setup_started = time.monotonic()
        stack.start()
        out.append(
            f"stack up in {time.monotonic() - setup_started:.1f} s: gunicorn {web_workers} workers, "
            f"{stack.rq_workers} RQ workers (--simple, scheduler), sweep every "
            f"{stack.sweep_every:.0f} s, PostgreSQL {stack.db_name}, Redis :{stack.redis_port}"
        )
        load_before = os.getloadavg()[0]
        load = Load(stack, stack.fixtures, users)
        memory = Memory(stack)
        memory.thread.start()
        plan = fault_plan(stack, seconds)
        stop_faults = threading.Event()
        started = time.monotonic()
        stack.started = started
        faults = threading.Thread(target=run_faults, args=(plan, started, stop_faults), daemon=True)
        faults.start()
        load.run(seconds)
        load_seconds = time.monotonic() - started
        stop_faults.set()
        faults.join(70)
        stack.smtp_refuse(False)
        load.finish_links(20)

        app = drill_app(stack)
        drain_started = time.monotonic()
        left = outstanding(app, load)
        noted = drain_started
        while left and time.monotonic() - drain_started < drain:
            if time.monotonic() - noted >= 15:
                # Why the drain takes long, in the timeline even when it ends well.
                noted = time.monotonic()
                stack.note(f"draining: {len(left)} items left, first: {left[0]}")
            time.sleep(1)
            left = outstanding(app, load)
        drained = time.monotonic() - drain_started
        if left:
            # Why: the last word on every item still owed, while the stack still runs.
            stack.note(f"{len(left)} items left after {drained:.0f} s of draining")
        memory.stop.set()
        shutdown = stack.shutdown()

        kills = [t for t, what in stack.events if what.startswith("kill -9 gunicorn")]
        checks = verify(app, load, kills)
        with app.app_context():
            checks.append(kinds_covered(load, required=seconds >= 300))
            db.session.remove()
            db.engine.dispose()
        graceful = all(code == 0 for code, _ in shutdown.values())
        checks.append(
            Check(
                "graceful shutdown (SIGTERM) of web and workers",
                graceful,
                ", ".join(
                    f"{name}: exit {code} in {took:.1f} s"
                    for name, (code, took) in shutdown.items()
                ),
            )
        )
        checks.append(
            Check(
                "work drained after the load",
                not left,
                f"{len(left)} items left after {drained:.0f} s"
                + "".join(f"\n      left: {why}" for why in left[:20]),
            )
        )

        out.append("")
        out.append(table(load.recorder.samples, load_seconds))
        out.append("")
        out.append(memory.summary())
        out.append(
            f"machine: {os.cpu_count()} cores, load average {load_before:.1f} at the start of "
            f"the load, {os.getloadavg()[0]:.1f} at the end (shared with other work)"
        )
        out.append(
            f"sweeps: {stack.sweeps} ({stack.sweep_failures} failed); workers restarted by the "
            f"supervisor: {stack.worker_restarts}; drained in {drained:.0f} s"
        )
        out.append("")
        out.append("faults and events (second of the run):")
        out.extend(f"  {t:6.1f}  {what}" for t, what in stack.events)
        out.append("")
        out.append("checks:")
        out.extend(f"  [{'ok' if c.passed else 'FAIL'}] {c.name}: {c.figure}" for c in checks)
        passed = all(c.passed for c in checks)
        failed = [s for s in load.recorder.samples if not s.ok]
        if failed:
            out.append("")
            out.append("unexpected answers (second of the run, status 0 = connection broken):")
            out.extend(
                f"  {s.at:6.1f}  {s.status:3d}  {s.ms:7.0f} ms  {s.label}" for s in failed[:40]
            )
        out.append("")
        out.append("DRILL PASSED" if passed else f"DRILL FAILED (logs in {stack.workdir})")
        if not passed:
            keep_logs = True
        return Result(passed, "\n".join(out), checks, drained)
    finally:
        stack.cleanup(keep_logs=keep_logs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument("--users", type=int, default=12, help="concurrent virtual users")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result = run_drill(args.duration, args.users, args.web_workers, keep_logs=args.keep_logs)
    print(f"Lotse production drill, {args.duration:.0f} s, {args.users} users, started {started}")
    print(result.text)
    sys.exit(0 if result.passed else 1)


if __name__ == "__main__":
    main()
