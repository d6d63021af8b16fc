"""``flask lotse …`` commands.

The features add their own commands to the ``lotse`` group; their demo data and
periodic work come in through ``lotse.hooks``.
"""

from __future__ import annotations

import multiprocessing
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from lotse import hooks
from lotse.extensions import db
from lotse.models import Department, Role, User, email_lookup
from lotse.queue import get_queue, run_cron, run_sweeps
from lotse.urls import public_url

lotse_cli = AppGroup("lotse", help="Lotse: Verwaltung, Demodaten, Worker.")

DEMO_DEPARTMENTS = [
    ("Tiefbau", "tiefbau@musterstadt.example"),
    ("Grünflächen", "gruen@musterstadt.example"),
    ("Ordnungsamt", "ordnungsamt@musterstadt.example"),
    ("Bauhof/Winterdienst", "bauhof@musterstadt.example"),
    ("Sport- und Bäderamt", "sport@musterstadt.example"),
    ("Straßenbeleuchtung (Netzbetreiber)", "stoerung@netz-rur.example"),
]
DEMO_ADMIN = "admin@musterstadt.example"
# label, e-mail, name, role, department
DEMO_STAFF = [
    ("Administration", DEMO_ADMIN, "Alex Admin", Role.ADMIN, None),
    ("Tiefbau", "tiefbau.sb@musterstadt.example", "Toni Tiefbau", Role.CLERK, "Tiefbau"),
    (
        "Buchungsbüro",
        "buchung@musterstadt.example",
        "Bea Buchung",
        Role.BOOKING_OFFICE,
        "Sport- und Bäderamt",
    ),
    (
        "Hausmeisterei",
        "hausmeister@musterstadt.example",
        "Hanne Hausmeister",
        Role.CARETAKER,
        "Sport- und Bäderamt",
    ),
]


def create_staff_user(
    email: str, name: str, password: str, roles: list[str], departments: list[Department]
) -> User:
    user = User(email=email.strip().lower(), display_name=name, password_hash="")
    user.set_password(password)
    user.roles = roles
    user.departments = departments
    db.session.add(user)
    return user


@lotse_cli.command("create-staff")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, type=click.Choice([r.value for r in Role]))
@click.option("--department", "departments", multiple=True, help="Name eines Fachbereichs")
@click.password_option(prompt="Passwort", confirmation_prompt=True)
def create_staff(email, name, roles, departments, password):
    """Create a staff account."""
    if len(password) < 12:
        raise click.BadParameter("mindestens 12 Zeichen", param_hint="--password")
    if db.session.scalar(select(User).where(email_lookup(User.email, email))):
        raise click.ClickException(f"{email} gibt es schon.")
    found = []
    for dep_name in departments:
        dep = db.session.scalar(select(Department).where(Department.name == dep_name))
        if dep is None:
            raise click.ClickException(f"Fachbereich {dep_name!r} gibt es nicht.")
        found.append(dep)
    create_staff_user(email, name, password, list(roles), found)
    db.session.commit()
    click.echo(f"Konto {email} angelegt.")


@lotse_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Nichts tun, wenn schon Demodaten da sind.")
def seed_demo(if_empty: bool):
    """Load the demo town Musterstadt and print the demo staff login."""
    login_file = Path(current_app.instance_path) / "demo-login.txt"
    if db.session.scalar(select(Department).limit(1)) is not None:
        if not if_empty:
            raise click.ClickException("Die Datenbank enthält schon Daten.")
        if login_file.exists():
            click.echo(login_file.read_text())
        return
    departments = {name: Department(name=name, email=mail) for name, mail in DEMO_DEPARTMENTS}
    departments["Straßenbeleuchtung (Netzbetreiber)"].is_external = True
    db.session.add_all(departments.values())
    staff_page = public_url("auth.login_view")
    logins = []
    for label, email, name, role, department in DEMO_STAFF:
        password = secrets.token_urlsafe(12)
        create_staff_user(
            email, name, password, [role], [departments[department]] if department else []
        )
        logins.append(hooks.DemoLogin(staff_page, label, email, password))
    db.session.flush()
    for seeder in hooks.seeders():
        logins += seeder() or []
    db.session.commit()
    text = demo_login_text(logins)
    login_file.write_text(text)
    login_file.chmod(0o600)
    click.echo(text)


def demo_login_text(logins: list[hooks.DemoLogin]) -> str:
    """The demo logins, grouped by the page to log in on."""
    lines = ["Demo-Anmeldungen (Passwörter gelten nur für diese Demo):"]
    width = max(len(login.label) for login in logins) + 2
    for page in dict.fromkeys(login.page for login in logins):
        lines.append(f"  {page}")
        lines += [
            f"    {login.label + ':':<{width}}{login.email} / {login.password}"
            for login in logins
            if login.page == page
        ]
    return "\n".join(lines) + "\n"


@lotse_cli.command("sweep")
def sweep():
    """Run periodic maintenance once: re-enqueue due work, expire holds, send reminders."""
    try:
        run_sweeps()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("Sweep erledigt.")


@lotse_cli.command("worker")
@click.option("--burst", is_flag=True, help="Beenden, wenn die Warteschlange leer ist.")
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Ohne Scheduler für verzögerte Jobs und ohne den minütlichen Sweep.",
)
@click.option(
    "--simple",
    is_flag=True,
    help="Jobs im Workerprozess statt in einem Kindprozess je Job (schneller, weniger isoliert).",
)
def worker(burst: bool, no_scheduler: bool, simple: bool):
    """Run an RQ worker for this app's queue (needs REDIS_URL), with the periodic sweep.

    Unless ``--no-scheduler`` or ``--burst``, a cron process forked next to the worker
    enqueues the sweep every ``SWEEP_INTERVAL`` seconds, so no cron job or timer is needed.
    """
    from rq import SimpleWorker, Worker

    app = current_app._get_current_object()
    queue = get_queue(app)
    if queue is None:
        raise click.ClickException("REDIS_URL ist nicht gesetzt: Jobs laufen im Webprozess.")
    cron = None
    if not (no_scheduler or burst):
        cron = multiprocessing.get_context("fork").Process(
            target=run_cron, args=(app,), name="lotse-cron", daemon=True
        )
        cron.start()
    worker_class = SimpleWorker if simple else Worker
    try:
        # Every minute, not RQ's ten: the maintenance restarts the scheduler of delayed jobs
        # when the worker running it died or lost Redis (and cleans up after dead workers).
        worker_class([queue], connection=queue.connection, maintenance_interval=60).work(
            burst=burst, with_scheduler=not no_scheduler
        )
    finally:
        if cron is not None:
            cron.terminate()
            cron.join(10)


def init_app(app: Flask) -> None:
    app.cli.add_command(lotse_cli)
