"""Background jobs: RQ when ``REDIS_URL`` is set, in-process otherwise.

The rule (STYLE.md): a view commits first, then enqueues jobs that carry only ids.
The database is the source of truth for outstanding work; when Redis is unreachable
``enqueue`` logs and returns ``False`` and the periodic sweep enqueues the work again.

Jobs are named by dotted path (``"mangel.jobs.deliver"``) so that the web process
never has to import a worker's code to enqueue, and every job runs inside a fresh
application context of its own.

The periodic sweep (every feature's ``register_sweep`` steps) runs as an RQ job too: each
``flask lotse worker`` forks a small cron process (``rq.cron.CronScheduler``) that enqueues
it every ``SWEEP_INTERVAL`` seconds.  With several workers several crons enqueue it;
``scheduled_sweep`` lets one job per interval through and never two at once, and the work
itself is claimed row by row in the database, so nothing is done twice.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from rq import Queue
from rq.exceptions import DuplicateJobError
from rq.job import Job, JobStatus

from lotse import hooks
from lotse.extensions import db

log = logging.getLogger(__name__)

ALLOWED_JOB_PACKAGES = ("lotse.", "mangel.", "buchung.")
_DONE = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}
OUTLIVED_GRACE_SECONDS = 10  # RQ's own timeout ends a running job; this much later it is gone
_worker_app: Flask | None = None


def get_redis(app: Flask | None = None) -> redis.Redis | None:
    """The app's Redis client with short timeouts, or ``None`` in embedded mode."""
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    client = app.extensions.get("lotse_redis")
    if client is None:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=app.config["REDIS_CONNECT_TIMEOUT"],
            socket_timeout=app.config["REDIS_SOCKET_TIMEOUT"],
            health_check_interval=30,
        )
        app.extensions["lotse_redis"] = client
    return client


def get_queue(app: Flask | None = None) -> Queue | None:
    app = app or current_app
    conn = get_redis(app)
    if conn is None:
        return None
    return Queue(app.config["QUEUE_NAME"], connection=conn)


def _resolve(path: str) -> Callable[..., Any]:
    if not path.startswith(ALLOWED_JOB_PACKAGES):
        raise ValueError(f"refusing to run job outside our packages: {path}")
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def enqueue(
    func: str,
    *args: Any,
    job_id: str | None = None,
    delay: timedelta | None = None,
    timeout: int | None = None,
) -> bool:
    """Hand a job to the workers; call only after the transaction it depends on committed.

    ``job_id`` makes the call idempotent: a job with that id still queued or running is
    not enqueued again.  Returns ``True`` when the job was handed over (or ran inline).
    """
    app = current_app._get_current_object()
    _resolve(func)  # fail early in the web process on a typo, not later in a worker
    prefix = app.config["QUEUE_NAME"]
    if job_id and not job_id.startswith(prefix):
        # Job ids are global in a Redis database: towns (and test runs) sharing one Redis
        # must not take each other's jobs for duplicates.
        job_id = f"{prefix}-{job_id}"
    queue = get_queue(app)
    if queue is None:
        if delay:
            # Inline mode has no scheduler: delayed work waits for the next sweep.
            return False
        run_inline(app, func, *args)
        return True
    options = {
        "job_id": job_id,
        "job_timeout": timeout or app.config["JOB_TIMEOUT"],
        "result_ttl": 0,
        "failure_ttl": 7 * 24 * 3600,
        "unique": bool(job_id),
    }
    try:
        if not _put(queue, delay, func, args, options) and _drop_if_done(queue, job_id):
            _put(queue, delay, func, args, options)
    except redis.RedisError as exc:
        log.warning("queue unreachable, %s left for the sweep: %s", func, exc)
        return False
    return True


def _put(queue: Queue, delay: timedelta | None, func: str, args: tuple, options: dict) -> bool:
    """Enqueue ``run(func, *args)``; ``False`` when a job of that id exists already."""
    try:
        if delay:
            queue.enqueue_in(delay, run, func, *args, **options)
        else:
            queue.enqueue(run, func, *args, **options)
    except DuplicateJobError:
        return False
    return True


def _drop_if_done(queue: Queue, job_id: str) -> bool:
    """Delete a job of this id that is over (failed, stopped, …) so it can run again.

    RQ keeps a failed job's id for ``failure_ttl``; without this a job that failed
    outside its own bookkeeping (database gone for a moment) could not be queued again.
    A job still "started" long after its timeout is over too: its worker was killed
    (kill -9, out of memory) before it could say so, and RQ moves it to the failed jobs
    only at a later maintenance — meanwhile the row it was to send would wait for minutes.
    """
    job = queue.fetch_job(job_id)
    if job is None:
        return True
    status = job.get_status(refresh=False)
    if status in _DONE or (status == JobStatus.STARTED and _outlived(job)):
        job.delete()
        return True
    return False


def _outlived(job: Job) -> bool:
    """Started longer ago than its timeout (and a grace period): nobody runs it any more."""
    if job.started_at is None:
        return False
    timeout = job.timeout or current_app.config["JOB_TIMEOUT"]
    grace = timedelta(seconds=timeout + OUTLIVED_GRACE_SECONDS)
    return datetime.now(UTC) - job.started_at > grace


def run_inline(app: Flask, func: str, *args: Any) -> None:
    """Run a job now, in this process, isolated in its own app context and session."""
    try:
        with app.app_context():
            _resolve(func)(*args)
    except Exception:
        # The job's own bookkeeping records failures in the database; a citizen's
        # request must not fail because a mail server is down.
        log.exception("inline job %s%r failed", func, args)


def run(func: str, *args: Any) -> Any:
    """Entry point of every RQ job: resolve the job and run it in a fresh app context."""
    global _worker_app
    if has_app_context():
        app = current_app._get_current_object()
    else:
        if _worker_app is None:
            from lotse import create_app

            _worker_app = create_app()
        app = _worker_app
    with app.app_context():
        return _resolve(func)(*args)


def queue_status(app: Flask) -> dict[str, Any]:
    """For /healthz: ``inline`` in embedded mode, else whether Redis answers."""
    conn = get_redis(app)
    if conn is None:
        return {"ok": True, "mode": "inline"}
    try:
        conn.ping()
        queue = get_queue(app)
        return {"ok": True, "mode": "rq", "queued": queue.count if queue else 0}
    except redis.RedisError as exc:
        return {"ok": False, "mode": "rq", "error": type(exc).__name__}


def run_sweeps() -> None:
    """Run every feature's periodic step once; a failing step does not stop the others."""
    failed = []
    for step in hooks.sweeps():
        try:
            step()
        except Exception:
            db.session.rollback()
            log.exception("sweep step %s failed", step.__qualname__)
            failed.append(f"{step.__module__}.{step.__qualname__}")
    if failed:
        raise RuntimeError(f"sweep steps failed: {', '.join(failed)}")


def scheduled_sweep() -> None:
    """Cron job: the sweep, at most once per ``SWEEP_INTERVAL`` and never twice at once.

    Every worker's cron enqueues this job; the first to run in an interval takes the
    interval's mark, the others return.  The lock keeps a slow sweep from overlapping
    the next one (it expires with the job timeout should the worker die).
    """
    conn = get_redis()
    interval = current_app.config["SWEEP_INTERVAL"]
    prefix = f"{current_app.config['QUEUE_NAME']}:sweep"
    slot = int(time.time() // interval)
    if not conn.set(f"{prefix}:{slot}", os.getpid(), nx=True, ex=2 * interval):
        return
    lock = conn.lock(f"{prefix}:running", timeout=current_app.config["JOB_TIMEOUT"])
    if not lock.acquire(blocking=False):
        return
    try:
        run_sweeps()
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            log.warning("sweep outlived its lock (JOB_TIMEOUT)")


def run_cron(app: Flask) -> None:
    """Enqueue ``scheduled_sweep`` every ``SWEEP_INTERVAL`` seconds until told to stop.

    Runs in a process of its own next to a worker.  It survives Redis outages (it tries
    again a few seconds later) and ends on SIGTERM/SIGINT or when its worker is gone.
    """
    from rq.cron import CronScheduler

    queue = get_queue(app)
    parent = os.getppid()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    cron = CronScheduler(connection=queue.connection)
    cron.register(
        run,
        queue.name,
        args=("lotse.queue.scheduled_sweep",),
        interval=app.config["SWEEP_INTERVAL"],
        job_timeout=app.config["JOB_TIMEOUT"],
        result_ttl=0,
        failure_ttl=7 * 24 * 3600,
        name=f"{queue.name}-sweep",
    )
    log.info("cron: sweep every %s s on queue %s", app.config["SWEEP_INTERVAL"], queue.name)
    while not stop.is_set() and os.getppid() == parent:
        try:
            if cron.enqueue_jobs():
                cron.save()
            cron.heartbeat()
            pause = cron.calculate_sleep_interval()
        except redis.RedisError as exc:
            log.warning("cron: queue unreachable, trying again: %s", exc)
            pause = 5
        # Short naps: notice a dead worker soon, and never spin on an overdue job.
        stop.wait(min(max(pause, 0.2), 5))
    with contextlib.suppress(redis.RedisError):
        cron.register_death()
