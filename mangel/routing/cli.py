"""``flask lotse import-areas`` and ``flask lotse department-webhook``."""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask_babel import force_locale
from sqlalchemy import select

from lotse.cli import lotse_cli
from lotse.extensions import db
from lotse.models import Department
from mangel.routing.areas import AreaFileError, import_areas
from mangel.routing.delivery import webhook_url_error
from mangel.routing.models import DepartmentEndpoint


@lotse_cli.command("import-areas")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name-property", default="name", show_default=True)
@click.option("--epsg", type=int, help="EPSG-Code der Koordinaten (sonst aus der Datei/WGS 84).")
def import_areas_command(file: Path, name_property: str, epsg: int | None):
    """Import Zuständigkeitsgebiete (Ortsteile, corridors) from a GeoJSON file in any EPSG."""
    try:
        with force_locale("de"):  # the messages are written for admins, in German
            new, replaced = import_areas(file.read_bytes(), name_property, epsg)
    except AreaFileError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"{new + replaced} Gebiete importiert ({new} neu, {replaced} ersetzt).")


@lotse_cli.command("department-webhook")
@click.argument("department")
@click.option("--url", help="https-Adresse, an die Meldungen als signiertes JSON gehen.")
@click.option("--secret", help="Gemeinsames Geheimnis für die Signatur (sonst erzeugt).")
@click.option(
    "--remove", is_flag=True, help="Webhook entfernen: Meldungen gehen wieder per E-Mail."
)
def department_webhook(department: str, url: str | None, secret: str | None, remove: bool):
    """Send a department's reports to a webhook (external systems) instead of by e-mail."""
    found = db.session.scalar(select(Department).where(Department.name == department))
    if found is None:
        raise click.ClickException(f"Fachbereich {department!r} gibt es nicht.")
    endpoint = db.session.get(DepartmentEndpoint, found.id)
    if remove:
        if endpoint is not None:
            db.session.delete(endpoint)
            db.session.commit()
        click.echo(f"{found.name}: Meldungen gehen per E-Mail an {found.email or '-'}.")
        return
    with force_locale("de"):
        problem = webhook_url_error(url) if url else "eine https-Adresse"
    if problem:
        raise click.BadParameter(problem, param_hint="--url")
    endpoint = endpoint or DepartmentEndpoint(department_id=found.id)
    endpoint.webhook_url = url
    endpoint.webhook_secret = secret or secrets.token_urlsafe(32)
    db.session.add(endpoint)
    db.session.commit()
    click.echo(f"{found.name}: Meldungen gehen an {url}.")
    if not secret:
        click.echo(f"Geheimnis für X-Lotse-Signature: {endpoint.webhook_secret}")
