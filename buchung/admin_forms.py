"""Forms of the booking office: resources, opening hours, photos, closures."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
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

from buchung.clock import format_hhmm, parse_hhmm
from buchung.forms import KIND_LABELS, choices
from buchung.models import SLOT_MINUTES, Access
from lotse.inputs import LotseForm

WEEKDAYS = [
    _l("Montag"),
    _l("Dienstag"),
    _l("Mittwoch"),
    _l("Donnerstag"),
    _l("Freitag"),
    _l("Samstag"),
    _l("Sonntag"),
]
ACCESS_LABELS = {
    Access.PUBLIC: _l("alle (Bürgerinnen, Bürger und Vereine)"),
    Access.CLUBS: _l("nur Vereine"),
    Access.STAFF: _l("nur das Buchungsbüro"),
}
HOURS_HINT = _l("Zum Beispiel 08:00-12:00, 14:00-22:00. Leer: geschlossen.")


def parse_hours(text: str) -> list[tuple[int, int]]:
    """``"08:00-12:00, 14:00-22:00"`` → minute intervals; ``ValueError`` for anything else."""
    intervals = []
    for part in filter(None, (p.strip() for p in text.replace("–", "-").split(","))):
        opens, sep, closes = part.partition("-")
        if not sep:
            raise ValueError(part)
        interval = (parse_hhmm(opens), parse_hhmm(closes))
        if interval[0] >= interval[1]:
            raise ValueError(part)
        intervals.append(interval)
    return sorted(intervals)


def format_hours(intervals: list[tuple[int, int]]) -> str:
    return ", ".join(f"{format_hhmm(a)}-{format_hhmm(b)}" for a, b in intervals)


def _hours_field(label) -> StringField:
    return StringField(label, validators=[Length(max=200)], description=HOURS_HINT)


def _minutes_field(label, default: int) -> IntegerField:
    return IntegerField(
        label,
        default=default,
        validators=[
            InputRequired(_l("Bitte geben Sie eine Zahl an.")),
            NumberRange(min=SLOT_MINUTES, max=24 * 60, message=_l("Bitte 15 bis 1440 Minuten.")),
        ],
    )


class ResourceForm(LotseForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Bitte geben Sie einen Namen an.")), Length(max=120)],
    )
    kind = SelectField(_l("Art"), choices=choices(KIND_LABELS))
    parent_id = SelectField(
        _l("Teil von"),
        coerce=int,
        description=_l("Nur für Hallenteile: die teilbare Halle, zu der dieser Teil gehört."),
    )
    department_id = SelectField(_l("Zuständiger Fachbereich"), coerce=int)
    description = TextAreaField(_l("Beschreibung"), validators=[Length(max=5000)])
    capacity = IntegerField(
        _l("Plätze (Personen)"),
        validators=[Optional(), NumberRange(min=1, message=_l("Bitte eine Zahl ab 1."))],
    )
    equipment = StringField(
        _l("Ausstattung"),
        validators=[Length(max=1000)],
        description=_l("Durch Kommas getrennt, z. B. Beamer, Basketballkörbe, Küche."),
    )
    accessibility = TextAreaField(_l("Barrierefreiheit"), validators=[Length(max=2000)])
    address = StringField(_l("Adresse"), validators=[Length(max=200)])
    lat = FloatField(
        _l("Breitengrad"),
        validators=[Optional(), NumberRange(min=-90, max=90, message=_l("Bitte -90 bis 90."))],
    )
    lon = FloatField(
        _l("Längengrad"),
        validators=[Optional(), NumberRange(min=-180, max=180, message=_l("Bitte -180 bis 180."))],
    )
    slot_minutes = SelectField(
        _l("Zeitraster"),
        coerce=int,
        choices=[SelectChoice(m, _l("%(n)s Minuten", n=m)) for m in (15, 30, 60)],
        default=30,
    )
    min_minutes = _minutes_field(_l("Mindestdauer (Minuten)"), 60)
    max_minutes = _minutes_field(_l("Höchstdauer (Minuten)"), 240)
    horizon_days = IntegerField(
        _l("Buchbar im Voraus (Tage)"),
        default=180,
        validators=[
            InputRequired(_l("Bitte geben Sie eine Zahl an.")),
            NumberRange(min=1, max=1000, message=_l("Bitte 1 bis 1000 Tage.")),
        ],
    )
    access = RadioField(
        _l("Wer darf buchen?"), choices=choices(ACCESS_LABELS), default=Access.PUBLIC.value
    )
    needs_approval = BooleanField(_l("Buchungen müssen genehmigt werden"))
    hours_0, hours_1, hours_2, hours_3, hours_4, hours_5, hours_6 = (
        _hours_field(label) for label in WEEKDAYS
    )
    active = BooleanField(_l("Buchbar (aktiv)"), default=True)
    submit = SubmitField(_l("Speichern"))

    def hours_fields(self):
        return [getattr(self, f"hours_{n}") for n in range(7)]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self.hours_fields():
            try:
                parse_hours(field.data or "")
            except ValueError:
                field.errors.append(_l("Bitte im Format 08:00-22:00 angeben, mehrere durch Komma."))
                valid = False
        if (
            self.min_minutes.data
            and self.max_minutes.data
            and self.max_minutes.data < self.min_minutes.data
        ):
            self.max_minutes.errors.append(
                _l("Die Höchstdauer muss mindestens die Mindestdauer sein.")
            )
            valid = False
        for field in (self.min_minutes, self.max_minutes):
            if field.data and field.data % self.slot_minutes.data:
                field.errors.append(_l("Bitte ein Vielfaches des Zeitrasters angeben."))
                valid = False
        return valid


class PhotoForm(LotseForm):
    photo = FileField(
        _l("Foto"),
        validators=[
            FileRequired(_l("Bitte wählen Sie ein Foto aus.")),
            FileAllowed(
                ["jpg", "jpeg", "png", "webp", "heic"],
                _l("Bitte ein Foto (JPEG, PNG, WebP, HEIC)."),
            ),
        ],
    )
    alt_text = StringField(
        _l("Bildbeschreibung"),
        validators=[DataRequired(_l("Bitte beschreiben Sie das Foto kurz.")), Length(max=200)],
        description=_l("Für Menschen, die das Bild nicht sehen können."),
    )
    submit = SubmitField(_l("Foto hochladen"))


class ClosureForm(LotseForm):
    resource_id = SelectField(
        _l("Raum"), coerce=int, description=_l("„Alle Räume“ sperrt jeden Raum.")
    )
    title = StringField(
        _l("Bezeichnung"),
        validators=[DataRequired(_l("Bitte geben Sie eine Bezeichnung an.")), Length(max=200)],
        description=_l("Zum Beispiel: Herbstferien, Bodensanierung."),
    )
    start_day = DateField(
        _l("Erster Tag"), validators=[InputRequired(_l("Bitte geben Sie den ersten Tag an."))]
    )
    start_time = TimeField(
        _l("ab Uhrzeit"), validators=[Optional()], description=_l("Leer: ganzer Tag.")
    )
    end_day = DateField(
        _l("Letzter Tag"), validators=[InputRequired(_l("Bitte geben Sie den letzten Tag an."))]
    )
    end_time = TimeField(
        _l("bis Uhrzeit"), validators=[Optional()], description=_l("Leer: ganzer Tag.")
    )
    weekly = BooleanField(_l("Jede Woche wiederholen"))
    repeat_until = DateField(
        _l("Wiederholen bis"), validators=[Optional()], description=_l("Leer: ohne Ende.")
    )
    submit = SubmitField(_l("Speichern"))

    def validate_end_day(self, field) -> None:
        if self.start_day.data and field.data and field.data < self.start_day.data:
            raise ValidationError(_l("Der letzte Tag darf nicht vor dem ersten liegen."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        start, end = self.start_time.data, self.end_time.data
        if (start is None) != (end is None):
            self.end_time.errors.append(_l("Bitte beide Uhrzeiten angeben oder keine."))
            return False
        if start and end and self.start_day.data == self.end_day.data and end <= start:
            self.end_time.errors.append(_l("Das Ende muss nach dem Beginn liegen."))
            return False
        return valid


class DecisionForm(LotseForm):
    """Approve or decline the chosen requests; a decline needs the reason the clubs read."""

    reason = TextAreaField(_l("Begründung (bei Ablehnung)"), validators=[Length(max=2000)])


class ClosureActionForm(LotseForm):
    """Cancel the bookings a closure hits, with the reason the bookers read."""

    reason = TextAreaField(_l("Begründung für die Buchenden"), validators=[Length(max=2000)])
