"""The periodic sweep inside the web process, for the embedded default (no ``REDIS_URL``).

With Redis the workers' cron runs the sweep (``lotse.queue.run_cron``).  Without it nothing
else would: holds would never lapse, waiting-list offers and retries never go out.  So the
serving process runs ``lotse.queue.run_sweeps`` itself, every ``SWEEP_INTERVAL`` seconds, in
a daemon thread.

One per instance folder: the thread sweeps only while it holds an exclusive ``flock`` on
``instance/sweep.lock``.  Other processes (gunicorn workers, a second ``flask run``) and
other apps in the same process keep trying each interval and take over when the holder
ends.  Only the process that serves starts it: not ``flask db upgrade`` or any other
command, not the Werkzeug reloader's watching parent (its code would be stale after a
reload), and not the tests unless they set ``EMBEDDED_SWEEP``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import IO

import click
from flask import Flask
from flask.helpers import get_debug_flag
from werkzeug.serving import is_running_from_reloader

from lotse.config import run_command_params
from lotse.queue import run_sweeps

log = logging.getLogger(__name__)

_EXTENSION = "lotse_sweeper"


class Sweeper:
    """A daemon thread that sweeps every ``SWEEP_INTERVAL`` seconds while it holds the lock."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = float(app.config["SWEEP_INTERVAL"])
        self.lock_path = Path(app.instance_path) / "sweep.lock"
        self._lock_file: IO[str] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lotse-sweep", daemon=True)

    @property
    def is_holder(self) -> bool:
        """Whether this app is the instance's sweeper at the moment."""
        return self._lock_file is not None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """End the thread (after a sweep in progress) and give the lock to another process."""
        self._stop.set()
        self._thread.join(timeout)
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _take_lock(self) -> bool:
        if self._lock_file is None:
            lock_file = open(self.lock_path, "a")  # noqa: SIM115 (held for the thread's life)
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock_file.close()
                return False
            self._lock_file = lock_file
            log.info("sweep: this process (%s) sweeps every %s s", os.getpid(), self.interval)
        return True

    def sweep_once(self) -> None:
        """One round: the sweep of every feature, if this app holds the instance's lock."""
        if not self._take_lock():
            return
        try:
            with self.app.app_context():
                run_sweeps()
        except Exception:
            # Each failing step is logged by run_sweeps; the next round tries again.
            log.exception("sweep failed")

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sweep_once()
            self._stop.wait(self.interval)


def serving() -> bool:
    """Whether this process is about to serve requests (not a command, not the reloader's
    watching parent).  ``flask run`` loads the app inside its click context; a WSGI server
    such as gunicorn imports ``wsgi.py`` outside of any."""
    if click.get_current_context(silent=True) is None:
        return True
    params = run_command_params()
    if params is None:
        return False
    reload = params.get("reload")
    if reload is None:
        reload = get_debug_flag()
    return is_running_from_reloader() or not reload


def init_app(app: Flask) -> None:
    """Start the sweep thread when there is no Redis and this process serves."""
    if app.config["REDIS_URL"] or not app.config["EMBEDDED_SWEEP"] or not serving():
        return
    sweeper = Sweeper(app)
    app.extensions[_EXTENSION] = sweeper
    sweeper.start()


def sweeper_of(app: Flask) -> Sweeper | None:
    return app.extensions.get(_EXTENSION)
