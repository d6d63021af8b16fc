"""API keys of the Open311 interface: creation (CLI and admin page), lookup, revocation.

Made, checked and revoked the way every API key is (``lotse.apikeys``); this module adds
the Open311 rules: allowed categories, a rate limit, trusted clients.
"""

from __future__ import annotations

import click
from flask import Blueprint, redirect, render_template, url_for
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from limits import parse as parse_limit
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from lotse import apikeys
from lotse.admin import CheckboxList
from lotse.auth import admin_required
from lotse.cli import lotse_cli
from lotse.extensions import db
from mangel import services
from mangel.open311.apikey_models import ApiKey

bp = Blueprint("mangel_apikeys", __name__, url_prefix="/verwaltung/maengel/api-schluessel")

DEFAULT_RATE_LIMIT = "60 per hour"


def create_api_key(
    name: str,
    *,
    category_ids: list[int] = (),
    rate_limit: str = DEFAULT_RATE_LIMIT,
    trusted: bool = False,
) -> tuple[ApiKey, str]:
    """Make a key for a client system; returns the row and the raw key (shown once)."""
    return apikeys.issue(
        ApiKey, name, category_ids=list(category_ids), rate_limit=rate_limit, trusted=trusted
    )


def _valid_limit(value: str) -> bool:
    try:
        parse_limit(value)
    except ValueError:
        return False
    return True


PERIODS = {"minute": _l("pro Minute"), "hour": _l("pro Stunde"), "day": _l("pro Tag")}


def limit_label(value: str) -> str:
    """A stored limit ("100 per hour") as people read it: "100 pro Stunde"."""
    try:
        item = parse_limit(value)
    except ValueError:
        return value
    unit = item.GRANULARITY.name
    amount = format_number(item.amount)
    if item.multiples == 1 and unit in PERIODS:
        return f"{amount} {PERIODS[unit]}"
    names = {
        "second": _("Sekunden"),
        "minute": _("Minuten"),
        "hour": _("Stunden"),
        "day": _("Tage"),
        "month": _("Monate"),
        "year": _("Jahre"),
    }
    return _("%(n)s je %(m)d %(unit)s", n=amount, m=item.multiples, unit=names.get(unit, unit))


@lotse_cli.command("create-api-key")
@click.argument("name")
@click.option("--trusted", is_flag=True, help="Reports skip the e-mail confirmation.")
@click.option("--rate-limit", default=DEFAULT_RATE_LIMIT, show_default=True)
@click.option("--category", "categories", type=int, multiple=True, help="Allowed category id.")
def create_api_key_command(name: str, trusted: bool, rate_limit: str, categories: tuple[int]):
    """Create an Open311 API key and print it once; only its hash is stored."""
    if not _valid_limit(rate_limit):
        raise click.BadParameter(f"not a rate limit: {rate_limit}", param_hint="--rate-limit")
    _key, raw = create_api_key(
        name, category_ids=list(categories), rate_limit=rate_limit, trusted=trusted
    )
    db.session.commit()
    click.echo(raw)


# --- admin pages -------------------------------------------------------------------------


class ApiKeyForm(apikeys.NewKeyForm):
    """A new key: who uses it, where it may report, how often, whether it is trusted."""

    name = apikeys.name_field(_l("Name"), _l("Wer den Schlüssel nutzt, zum Beispiel „Stadt-App“."))
    categories = CheckboxList(
        _l("Erlaubte Kategorien"),
        coerce=int,
        description=_l("Keine Auswahl: alle Kategorien."),
    )
    rate_count = IntegerField(
        _l("Höchstens so viele Meldungen"),
        default=60,
        validators=[
            InputRequired(_l("Bitte geben Sie eine Zahl an, zum Beispiel 100.")),
            NumberRange(min=1, max=100_000, message=_l("Bitte eine Zahl von 1 bis 100.000.")),
        ],
        description=_l("Weitere Meldungen in diesem Zeitraum lehnt die Schnittstelle ab."),
    )
    rate_period = SelectField(
        _l("Zeitraum"),
        default="hour",
        choices=[SelectChoice(key, label) for key, label in PERIODS.items()],
    )
    trusted = BooleanField(
        _l("Vertrauenswürdig: Meldungen ohne Bestätigung per E-Mail veröffentlichen")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tree = services.category_tree()  # held: the leaves' full names read their mains
        self.categories.choices = [
            SelectChoice(leaf.id, leaf.full_name) for _main, leaves in tree for leaf in leaves
        ]

    @property
    def rate_limit(self) -> str:
        """The limit in the syntax the rate limiter reads ("100 per hour")."""
        return f"{self.rate_count.data} per {self.rate_period.data}"


@bp.route("/", methods=["GET", "POST"])
@admin_required
def key_list():
    """All keys with their rules; a new key is shown once, right after it is made."""
    form = ApiKeyForm()
    new_key = None
    if form.validate_on_submit():
        _key, new_key = create_api_key(
            form.name.data,
            category_ids=form.categories.data or [],
            rate_limit=form.rate_limit,
            trusted=form.trusted.data,
        )
        db.session.commit()
        form = ApiKeyForm(formdata=None)
    return render_template(
        "mangel/open311/key_list.html",
        form=form,
        keys=list(db.session.scalars(apikeys.listing(ApiKey))),
        new_key=new_key,
        limit_label=limit_label,
    )


@bp.route("/<int:key_id>/widerrufen", methods=["POST"])
@admin_required
def key_revoke(key_id: int):
    """Revoke a key: the client can no longer post; its reports stay."""
    apikeys.revoke_from_button(db.get_or_404(ApiKey, key_id))
    return redirect(url_for(".key_list"))
