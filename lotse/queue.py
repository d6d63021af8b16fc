"""Background jobs: RQ when ``REDIS_URL`` is set, in-process otherwise.

The rule (STYLE.md): a view commits first, then enqueues jobs that carry only ids.
The database is the source of truth for outstanding work; when Redis is unreachable
``enqueue`` logs and returns ``False`` and the periodic sweep enqueues the work again.

Jobs are named by dotted path (``"mangel.jobs.deliver"``) so that the web process
never has to import a worker's code to enqueue, and every job runs inside a fresh
application context of its own.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from rq import Queue
from rq.exceptions import DuplicateJobError

log = logging.getLogger(__name__)

ALLOWED_JOB_PACKAGES = ("lotse.", "mangel.", "buchung.")
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
        if delay:
            queue.enqueue_in(delay, run, func, *args, **options)
        else:
            queue.enqueue(run, func, *args, **options)
    except DuplicateJobError:
        return True
    except redis.RedisError as exc:
        log.warning("queue unreachable, %s left for the sweep: %s", func, exc)
        return False
    return True


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
