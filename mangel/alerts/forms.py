"""The subscription form: where, what, how often, to which address."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from lotse.admin import CheckboxList
from lotse.inputs import LotseForm
from mangel.forms import required_email, strip

RADII = (100, 250, 500, 1000)


class AlertForm(LotseForm):
    email = required_email(
        _l(
            "Wir speichern sie nur für diese Benachrichtigung; jede Mail enthält einen Link, "
            "mit dem Sie sich mit einem Klick abmelden. Dann löschen wir die Adresse."
        )
    )
    kind = RadioField(
        _l("Wo?"),
        choices=[
            SelectChoice("radius", _l("Im Umkreis einer Adresse")),
            SelectChoice("street", _l("In einer Straße")),
            SelectChoice("area", _l("In einem Ortsteil oder Gebiet")),
        ],
        default="radius",
        validators=[DataRequired(_l("Bitte wählen Sie, wo."))],
    )
    address = StringField(
        _l("Adresse"),
        filters=[strip],
        validators=[Optional(), Length(max=200)],
        description=_l("Straße und Hausnummer, zum Beispiel „Bahnhofstraße 12“."),
        render_kw={"autocomplete": "street-address"},
    )
    radius = SelectField(
        _l("Umkreis"),
        choices=[SelectChoice(str(r), _l("%(m)d Meter", m=r)) for r in RADII],
        default="250",
    )
    street = StringField(
        _l("Straße"),
        filters=[strip],
        validators=[Optional(), Length(max=120)],
        description=_l("Der Straßenname ohne Hausnummer, zum Beispiel „Bahnhofstraße“."),
    )
    area = SelectField(_l("Ortsteil oder Gebiet"), choices=[], validate_choice=False)
    categories = CheckboxList(
        _l("Nur diese Kategorien (keine Auswahl: alle)"), choices=[], validate_choice=False
    )
    on_new = BooleanField(_l("Neue Meldungen"), default=True)
    on_status = BooleanField(_l("Änderungen des Bearbeitungsstands"))
    frequency = RadioField(
        _l("Wie oft?"),
        choices=[
            SelectChoice("immediate", _l("Sofort, eine Mail je Meldung")),
            SelectChoice("daily", _l("Einmal am Tag als Übersicht")),
        ],
        default="immediate",
        validators=[DataRequired(_l("Bitte wählen Sie, wie oft."))],
    )
    website = StringField(_l("Webseite (bitte leer lassen)"))
    submit = SubmitField(_l("Benachrichtigung bestellen"))
