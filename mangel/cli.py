"""``flask lotse import-addresses``: load the town's address list."""

from __future__ import annotations

from pathlib import Path

import click

from lotse.cli import lotse_cli
from lotse.extensions import db
from mangel.places import AddressFileError, import_addresses


@lotse_cli.command("import-addresses")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_addresses_command(csv_file: Path):
    """Replace the address list with a CSV file (street, house number, postcode, lat, lon)."""
    try:
        imported, skipped = import_addresses(csv_file.read_text(encoding="utf-8-sig"))
    except (AddressFileError, UnicodeDecodeError) as exc:
        db.session.rollback()
        raise click.ClickException(f"{csv_file}: {exc}") from exc
    db.session.commit()
    click.echo(f"{imported} Adressen importiert, {skipped} übersprungen.")
