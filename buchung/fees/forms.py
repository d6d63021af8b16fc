"""Forms of fees, bills and SEPA mandates; every message is German."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from buchung.fees.labels import CONDITION_LABELS, UNIT_LABELS
from buchung.fees.sepa import bic_for, clean_iban, parse_amount
from lotse.inputs import LotseForm


class EuroField(StringField):
    """An amount in euros as Germans type it ("17,50", "1.200", "17.50"); ``cents`` holds it."""

    cents: int | None = None

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.cents = None
        if self.data and self.data.strip():
            try:
                self.cents = parse_amount(self.data)
            except ValueError:
                self.cents = None
                raise ValueError(_l("Bitte einen Betrag in Euro, z. B. 17,50.")) from None
            if not 0 <= self.cents <= 100_000_00:
                self.cents = None
                raise ValueError(_l("Bitte einen Betrag von 0 bis 100.000 €."))


class FeeOptions:
    """What the booker declares for the fee, on the booking and the series form."""

    youth = BooleanField(
        _l("Jugendmannschaft"),
        description=_l("Nur Spielerinnen und Spieler unter 18 Jahren: ermäßigte Gebühr."),
    )
    cleaning = BooleanField(
        _l("Zusätzliche Endreinigung"),
        description=_l("Zum Beispiel nach einer Feier; kostet einen Zuschlag."),
    )


class ScheduleForm(LotseForm):
    title = StringField(
        _l("Bezeichnung"),
        validators=[DataRequired(_l("Bitte geben Sie eine Bezeichnung an.")), Length(max=200)],
        description=_l("Zum Beispiel: Gebührensatzung vom 12.06.2026"),
    )
    valid_from = DateField(
        _l("Gilt ab"), validators=[InputRequired(_l("Bitte geben Sie an, ab wann sie gilt."))]
    )
    late_cancel_percent = IntegerField(
        _l("Späte Stornierung: Anteil der Gebühr in %"),
        default=100,
        validators=[
            InputRequired(_l("Bitte eine Zahl von 0 bis 100.")),
            NumberRange(min=0, max=100, message=_l("Bitte eine Zahl von 0 bis 100.")),
        ],
        description=_l("Storniert jemand nach Ablauf der Online-Frist, wird dieser Anteil fällig."),
    )
    copy = BooleanField(_l("Tarife und Zu-/Abschläge der bisher geltenden Satzung übernehmen"))


class TariffForm(LotseForm):
    resource_id = SelectField(_l("Halle, Hallenteil oder Raum"), coerce=int)
    group_key = SelectField(_l("Kundengruppe"))
    unit = RadioField(
        _l("Abrechnung"),
        choices=[SelectChoice(k.value, v) for k, v in UNIT_LABELS.items()],
        default="hour",
        validators=[InputRequired(_l("Bitte wählen Sie die Abrechnung."))],
    )
    amount = EuroField(
        _l("Betrag in Euro"),
        validators=[DataRequired(_l("Bitte geben Sie einen Betrag an."))],
        description=_l("0 für gebührenfrei."),
    )


class AdjustmentForm(LotseForm):
    name = StringField(
        _l("Bezeichnung"),
        validators=[DataRequired(_l("Bitte geben Sie eine Bezeichnung an.")), Length(max=120)],
        description=_l("Zum Beispiel: Wochenendzuschlag, Jugendermäßigung"),
    )
    condition = SelectField(
        _l("Gilt"), choices=[SelectChoice(k.value, v) for k, v in CONDITION_LABELS.items()]
    )
    percent = IntegerField(
        _l("Prozent der Gebühr"),
        validators=[
            Optional(),
            NumberRange(min=-100, max=500, message=_l("Bitte eine Zahl von −100 bis 500.")),
        ],
        description=_l("Zuschlag positiv (20), Ermäßigung negativ (−50)."),
    )
    amount = EuroField(
        _l("Oder fester Betrag in Euro"),
        validators=[Optional()],
        description=_l("Zum Beispiel 25,00 für die Endreinigung."),
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not self.percent.data and self.amount.cents is None:
            self.percent.errors = [_l("Bitte geben Sie Prozent oder einen Betrag an.")]
            return False
        return valid


class GroupForm(LotseForm):
    key = StringField(
        _l("Kurzname"),
        validators=[
            DataRequired(_l("Bitte geben Sie einen Kurznamen an.")),
            Length(max=20),
        ],
        description=_l("Kleinbuchstaben, z. B. jugendarbeit"),
    )
    name = StringField(
        _l("Bezeichnung"),
        validators=[DataRequired(_l("Bitte geben Sie eine Bezeichnung an.")), Length(max=80)],
    )
    free = BooleanField(_l("Gebührenfrei"))

    def validate_key(self, field):
        if not field.data.strip().isidentifier() or not field.data.strip().islower():
            raise ValidationError(_l("Nur Kleinbuchstaben, Ziffern und Unterstriche."))


class ClubFeeForm(LotseForm):
    group_key = SelectField(_l("Kundengruppe"))
    non_profit = BooleanField(_l("Gemeinnützig anerkannt"))


class MandateForm(LotseForm):
    address = TextAreaField(
        _l("Anschrift des Vereins"),
        validators=[DataRequired(_l("Bitte geben Sie die Anschrift an.")), Length(max=300)],
        render_kw={"rows": 3, "autocomplete": "street-address"},
    )
    account_holder = StringField(
        _l("Kontoinhaber"),
        validators=[DataRequired(_l("Bitte geben Sie den Kontoinhaber an.")), Length(max=70)],
    )
    iban = StringField(
        _l("IBAN"),
        validators=[DataRequired(_l("Bitte geben Sie die IBAN an.")), Length(max=42)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    bic = StringField(
        _l("BIC"),
        validators=[Length(max=11)],
        description=_l("Leer lassen: wir ermitteln sie aus der IBAN."),
    )
    mandate_reference = StringField(
        _l("Mandatsreferenz"),
        validators=[DataRequired(_l("Bitte geben Sie die Mandatsreferenz an.")), Length(max=35)],
        description=_l("Steht auf dem unterschriebenen Mandat."),
    )
    signed_on = DateField(
        _l("Unterschrieben am"),
        validators=[InputRequired(_l("Bitte geben Sie das Datum der Unterschrift an."))],
    )
    consent = BooleanField(
        _l(
            "Wir ermächtigen die Stadtkasse, Gebühren von unserem Konto mittels Lastschrift "
            "einzuziehen, und weisen unser Kreditinstitut an, diese Lastschriften einzulösen."
        ),
        validators=[DataRequired(_l("Bitte bestätigen Sie das Mandat."))],
    )

    def validate_iban(self, field):
        try:
            self.clean_iban = clean_iban(field.data)
        except ValueError:
            raise ValidationError(
                _l("Diese IBAN ist nicht gültig. Bitte prüfen Sie sie.")
            ) from None

    def validate_mandate_reference(self, field):
        import re

        if not re.fullmatch(r"[A-Za-z0-9+?/\-:().,' ]{1,35}", field.data.strip()):
            raise ValidationError(
                _l("Nur Buchstaben (ohne Umlaute), Ziffern und + ? / - : ( ) . , ' erlaubt.")
            )

    def validated_bic(self) -> str | None:
        """The BIC, or ``None`` with an error at the field."""
        try:
            return bic_for(self.clean_iban, self.bic.data or "")
        except ValueError:
            self.bic.errors = [*self.bic.errors, _l("Diese BIC ist nicht gültig.")]
            return None


class MonthForm(LotseForm):
    month = SelectField(_l("Monat"))


class PaidForm(LotseForm):
    paid_on = DateField(
        _l("Bezahlt am"), validators=[InputRequired(_l("Bitte geben Sie das Datum an."))]
    )


class StornoForm(LotseForm):
    reason = StringField(
        _l("Grund der Korrektur"),
        validators=[DataRequired(_l("Bitte geben Sie einen Grund an.")), Length(max=200)],
    )


class ImportForm(LotseForm):
    file = FileField(
        _l("CSV-Datei der Stadtkasse"),
        validators=[FileRequired(_l("Bitte wählen Sie eine Datei."))],
        description=_l("Spalten: Belegnummer; Betrag; Bezahlt am"),
    )
