"""The production stack of the drill, on this machine: processes started, watched and stopped.

A throw-away database on the machine's PostgreSQL (migrated with ``flask db upgrade`` and
seeded with the demo town), a Redis server of the drill's own on a free port (the machine's
Redis is shared with other work, and the drill stops its Redis on purpose), gunicorn with
several workers, two ``flask lotse worker --simple`` processes and a "cron" thread running
``flask lotse sweep`` every few seconds.  The SMTP sink and the webhook receiver are the
test suite's (``tests/sinks.py``) and live in the drill's own process.

The supervisor thread plays systemd's ``Restart=always``: an RQ worker that died (killed,
or given up on Redis) is started again, and counted.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.sinks import SmtpSink, WebhookReceiver, free_port  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "drill-password-123"  # noqa: S105 - every drill login (staff and clubs)
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
EXCEPTION_LINE = re.compile(r"^(?:[a-z_]\w*\.)+[A-Z]\w*: |^[A-Z]\w+(?:Error|Exception): ")


def services_missing() -> str | None:
    """Why the drill cannot run here (no PostgreSQL, no redis-server), else ``None``."""
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return f"PostgreSQL {make_url(PG_URL).render_as_string()}: {type(exc).__name__}"
    if shutil.which("redis-server") is None:
        return "redis-server not installed"
    return None


@dataclass
class Proc:
    """One process of the stack, with its role and the log it writes."""

    role: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


@dataclass
class Stack:
    """Everything the drill runs; ``start()`` brings it up, ``stop()`` takes it down."""

    web_workers: int = 4
    rq_workers: int = 2
    sweep_every: float = 10.0
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lotse-drill-")))
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        self.db_name = f"lotse_drill_{self.tag}"
        self.db_url = make_url(PG_URL).set(database=self.db_name).render_as_string(False)
        self.web_port = free_port()
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.smtp = SmtpSink()
        self.webhook = WebhookReceiver()
        self.redis: Proc | None = None
        self.web: Proc | None = None
        self.workers: list[Proc] = []
        self.worker_restarts = 0
        self.sweeps = 0
        self.sweep_failures = 0
        self.events: list[tuple[float, str]] = []
        self.started = time.monotonic()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._seq = 0

    # --- configuration -----------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment of every Lotse process: production settings, drill timings."""
        return {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": "drill-" + self.tag,
            "LOTSE_INSTANCE_PATH": str(self.workdir / "instance"),
            "LOTSE_QUEUE_NAME": f"lotse-drill-{self.tag}",
            "LOTSE_MAIL_SERVER": "127.0.0.1",
            "LOTSE_MAIL_PORT": str(self.smtp.port),
            "LOTSE_MAIL_TIMEOUT": "5",
            "LOTSE_PUBLIC_BASE_URL": self.base_url,
            # One trusted proxy: the load generator speaks for many citizens, each with an
            # address of their own in X-Forwarded-For, as nginx would pass it on.
            "LOTSE_PROXY_FIX": "1",
            # Plain http on loopback (TLS ends at the reverse proxy in production).
            "LOTSE_SESSION_COOKIE_SECURE": "false",
            "LOTSE_REMEMBER_COOKIE_SECURE": "false",
            # Shorter clocks than in production, so a 10-minute drill sees retries and
            # take-overs complete: lease > job timeout, as the delivery module requires.
            "LOTSE_JOB_TIMEOUT": "20",
            "LOTSE_MANGEL_DELIVERY_LEASE_SECONDS": "30",
            "LOTSE_MANGEL_DELIVERY_BACKOFF": "[10, 20]",
            "LOTSE_OUTBOX_LEASE_SECONDS": "30",
            "LOTSE_OUTBOX_RETRY_DELAYS": "[5, 10, 20, 20, 20, 20, 20, 20]",
            "LOTSE_MANGEL_FALLBACK_EMAIL": "eingang@musterstadt.example",
            "FLASK_DEBUG": "0",
        }

    def note(self, what: str) -> None:
        """Record a fault or an event with the second of the run it happened in."""
        with self._lock:
            self.events.append((time.monotonic() - self.started, what))

    def _spawn(self, role: str, args: list[str]) -> Proc:
        self._seq += 1
        log = self.workdir / f"{role}-{self._seq}.log"
        handle = log.open("wb")
        popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env(),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        return Proc(role, popen, log)

    def _run(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [*FLASK, *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    # --- start ---------------------------------------------------------------------------

    def start(self) -> None:
        (self.workdir / "instance").mkdir(parents=True, exist_ok=True)
        self.smtp.__enter__()
        self.webhook.__enter__()
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.db_name}"'))
        admin.dispose()
        self.start_redis()
        from bench.drill_setup import prepare

        self.fixtures = prepare(self)
        self.web = self._spawn(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--workers",
                str(self.web_workers),
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "wsgi:app",
            ],
        )
        for _ in range(self.rq_workers):
            self.start_worker()
        self._wait_for_web()
        for target in (self._supervise, self._cron):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.started = time.monotonic()

    def _wait_for_web(self, timeout: float = 60) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.web.popen.poll() is not None:
                break
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not come up; see {self.web.log}")

    def start_redis(self) -> None:
        data = self.workdir / "redis"
        data.mkdir(exist_ok=True)
        # Snapshots on shutdown, as a production Redis keeps its queue across a restart.
        self.redis = self._spawn(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(data),
                "--save",
                "60 1",
                "--appendonly",
                "no",
            ],
        )
        client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def start_worker(self) -> Proc:
        worker = self._spawn("worker", [*FLASK, "lotse", "worker", "--simple"])
        with self._lock:
            self.workers.append(worker)
        return worker

    # --- background threads ----------------------------------------------------------------

    def _supervise(self) -> None:
        """Restart dead RQ workers (systemd's Restart=always) unless we are stopping."""
        while not self._stopping.wait(1.0):
            with self._lock:
                dead = [w for w in self.workers if w.popen.poll() is not None]
                for worker in dead:
                    self.workers.remove(worker)
            for worker in dead:
                if self._stopping.is_set():
                    return
                self.worker_restarts += 1
                self.note(
                    f"supervisor: worker {worker.pid} exited ({worker.popen.returncode}), restarted"
                )
                self.start_worker()

    def _cron(self) -> None:
        """``flask lotse sweep`` every few seconds, as cron or a systemd timer would."""
        while not self._stopping.wait(self.sweep_every):
            self.sweep_once()

    def sweep_once(self) -> None:
        try:
            self._run("lotse", "sweep", timeout=60)
            self.sweeps += 1
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            self.sweep_failures += 1
            lines = str(exc).strip().splitlines()
            # The exception the failing step logged says why; the last line only which step.
            causes = [
                line
                for line in lines
                if EXCEPTION_LINE.match(line) and "sweep steps failed" not in line
            ]
            self.note(
                f"sweep failed: {lines[-1][:160]}" + (f" ({causes[-1][:200]})" if causes else "")
            )

    # --- faults -------------------------------------------------------------------------------

    def kill_worker(self, oldest: bool = True) -> None:
        """kill -9 one RQ worker; the supervisor starts another.

        The oldest runs RQ's scheduler of delayed jobs: another worker takes it over only
        after its lock expired and at its next maintenance (a minute or two).
        """
        with self._lock:
            victim = self.workers[0 if oldest else -1]
        os.killpg(victim.pid, signal.SIGKILL)
        self.note(f"kill -9 RQ worker {victim.pid}")

    def terminate_worker(self) -> float:
        """SIGTERM one RQ worker (warm shutdown: it finishes its job); returns seconds to exit."""
        with self._lock:
            victim = self.workers[-1]
            self.workers.remove(victim)
        started = time.monotonic()
        os.kill(victim.pid, signal.SIGTERM)
        code = victim.popen.wait(60)
        took = time.monotonic() - started
        self.note(f"SIGTERM RQ worker {victim.pid}: exit {code} after {took:.1f} s")
        self.start_worker()
        return took

    def stop_redis(self) -> None:
        self.redis.popen.terminate()
        self.redis.popen.wait(30)
        self.note("Redis stopped")

    def restart_redis(self) -> None:
        self.start_redis()
        self.note("Redis started again")

    def kill_web_worker(self) -> None:
        """kill -9 one gunicorn worker; the master forks a new one."""
        children = child_pids(self.web.pid)
        if children:
            os.kill(children[0], signal.SIGKILL)
            self.note(f"kill -9 gunicorn worker {children[0]}")

    def reload_web(self) -> None:
        """SIGHUP gunicorn: new workers start, the old ones finish their requests and exit."""
        os.kill(self.web.pid, signal.SIGHUP)
        self.note("SIGHUP gunicorn (graceful reload)")

    def smtp_refuse(self, on: bool) -> None:
        mode = "refuse" if on else "accept"
        if self.smtp.mode != mode:
            self.smtp.mode = mode
            self.note("SMTP sink refuses" if on else "SMTP sink accepts again")

    # --- stop -------------------------------------------------------------------------------

    def stop_background(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(70)

    def shutdown(self) -> dict[str, tuple[int | None, float]]:
        """SIGTERM web and workers as systemd would; their exit codes and seconds taken."""
        self.stop_background()
        result = {}
        procs = [p for p in [self.web, *self.workers] if p is not None]
        started = time.monotonic()
        for proc in procs:
            if proc.popen.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        waiting = list(procs)
        while waiting and time.monotonic() - started < 40:
            for proc in list(waiting):
                if proc.popen.poll() is not None:
                    result[f"{proc.role} {proc.pid}"] = (
                        proc.popen.returncode,
                        time.monotonic() - started,
                    )
                    waiting.remove(proc)
            time.sleep(0.05)
        for proc in waiting:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.popen.wait(10)
            result[f"{proc.role} {proc.pid}"] = (None, time.monotonic() - started)
        return result

    def cleanup(self, keep_logs: bool = False) -> None:
        """Whatever still runs is killed; the database is dropped; logs kept on request."""
        self._stopping.set()
        for proc in [self.web, self.redis, *self.workers]:
            if proc is not None and proc.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.popen.wait(10)
        self.smtp.__exit__(None, None, None)
        self.webhook.__exit__(None, None, None)
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
        admin.dispose()
        if not keep_logs:
            shutil.rmtree(self.workdir, ignore_errors=True)


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (gunicorn's workers), oldest first."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return sorted(children)


def rss_kib(pid: int) -> int:
    """Resident memory of one process in KiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def new_secret() -> str:
    return secrets.token_hex(16)
