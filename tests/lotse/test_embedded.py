"""The embedded default on any port, and production refusing to start without its address."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import click
import pytest
from werkzeug.serving import make_server

from lotse import create_app
from lotse.config import PROJECT_DIR
from lotse.extensions import db
from lotse.sweeper import serving
from tests.conftest import csrf_token_from
from tests.mailbox import Mailbox


@pytest.fixture
def embedded_env(monkeypatch):
    """The environment of ``make run``: no database or Redis URL, no public address."""
    for name in ("DATABASE_URL", "REDIS_URL", "LOTSE_PUBLIC_BASE_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_run_on_another_port_mails_links_that_open_on_that_port(tmp_path, embedded_env):
    server = make_server("127.0.0.1", 0, None)  # a free port, as `make run PORT=…` picks one
    port = server.server_port
    server.server_close()
    embedded_env.setenv("FLASK_RUN_HOST", "127.0.0.1")  # what `make run` exports
    embedded_env.setenv("FLASK_RUN_PORT", str(port))
    app = create_app(instance_path=str(tmp_path))
    with app.app_context():
        db.create_all()
    mailbox = Mailbox(tmp_path / "mail")
    client = app.test_client()
    token = csrf_token_from(client.get("/barrierefreiheit").get_data(as_text=True))
    client.post(
        "/barrierefreiheit",
        data={"csrf_token": token, "message": "Kontrast zu schwach.", "page_url": "/"},
    )
    [link] = Mailbox.links(mailbox.latest())
    assert link == f"http://127.0.0.1:{port}/barrierefreiheit"

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(link, timeout=10) as response:  # noqa: S310 (loopback)
            assert response.status == 200
            assert "Erklärung zur Barrierefreiheit" in response.read().decode()
    finally:
        server.shutdown()
        thread.join()
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"host": "127.0.0.1", "port": 5055}, "http://127.0.0.1:5055"),
        ({"host": "0.0.0.0", "port": 8080}, "http://127.0.0.1:8080"),  # noqa: S104
        ({"host": "::1", "port": 5000, "cert": "adhoc"}, "https://[::1]:5000"),
    ],
)
def test_flask_run_options_are_the_base_of_mailed_links(tmp_path, embedded_env, params, expected):
    with click.Context(click.Command("run"), info_name="run") as ctx:
        ctx.params = {"reload": False, **params}
        app = create_app(instance_path=str(tmp_path))
    assert app.config["PUBLIC_BASE_URL"] == expected


def test_production_without_public_base_url_exits_with_one_line(tmp_path, embedded_env):
    env = dict(os.environ)
    env.update(
        DATABASE_URL="postgresql://lotse@db.invalid/lotse",  # never reached
        LOTSE_INSTANCE_PATH=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert "LOTSE_PUBLIC_BASE_URL ist nicht gesetzt" in line


@pytest.mark.parametrize(
    ("command", "params", "reloader_child", "expected"),
    [
        (None, {}, False, True),  # gunicorn imports wsgi.py
        ("db", {}, False, False),  # flask db upgrade
        ("seed-demo", {}, False, False),
        ("run", {"reload": False}, False, True),
        ("run", {"reload": True}, False, False),  # the reloader's watching parent
        ("run", {"reload": True}, True, True),  # … and its serving child
    ],
)
def test_only_the_serving_process_sweeps(monkeypatch, command, params, reloader_child, expected):
    if reloader_child:
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    else:
        monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    if command is None:
        assert serving() is expected
        return
    with click.Context(click.Command(command), info_name=command) as ctx:
        ctx.params = params
        assert serving() is expected


def test_the_tests_and_commands_start_no_sweep(tmp_path, embedded_env):
    app = create_app(instance_path=str(tmp_path))
    assert "lotse_sweeper" not in app.extensions
    assert not Path(tmp_path / "sweep.lock").exists()
