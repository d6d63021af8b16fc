"""``flask lotse import-closures``: school holidays and other closures from an iCalendar file."""

from __future__ import annotations

import click

from buchung.clock import to_local
from buchung.models import Closure, Resource
from buchung.services.closures import affected_bookings, import_calendar
from lotse.cli import lotse_cli
from lotse.extensions import db


@lotse_cli.command("import-closures")
@click.argument("file", type=click.File("rb"))
@click.option("--resource", "resource_id", type=int, help="Nur diesen Raum sperren (ID).")
def import_closures(file, resource_id: int | None):
    """Import closures (e.g. school holidays) from an .ics file and list hit bookings."""
    resource = db.session.get(Resource, resource_id) if resource_id else None
    if resource_id and resource is None:
        raise click.ClickException(f"Raum {resource_id} gibt es nicht.")
    try:
        created, updated = import_calendar(file.read(), resource)
    except ValueError as exc:
        raise click.ClickException(f"Keine lesbare iCalendar-Datei: {exc}") from exc
    db.session.commit()
    click.echo(f"{created} Sperrzeiten angelegt, {updated} aktualisiert.")
    for closure in db.session.scalars(db.select(Closure).where(Closure.ical_uid.is_not(None))):
        for booking in affected_bookings(closure):
            click.echo(
                f"  betroffen: Buchung {booking.id} {booking.resource.name} "
                f"{to_local(booking.starts_at):%d.%m.%Y %H:%M} ({closure.title}), "
                f"{booking.contact_name} <{booking.contact_email}>"
            )
