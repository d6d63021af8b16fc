"""Forms of the club pages: registration, login and season series; every message German."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
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

from buchung.admin_forms import WEEKDAYS
from buchung.forms import email_field, name_field
from lotse.admin import CheckboxList


class ClubRegistrationForm(FlaskForm):
    """A club registers itself and its first login."""

    club_name = StringField(
        _l("Name des Vereins"),
        validators=[DataRequired(_l("Bitte geben Sie den Namen des Vereins an.")), Length(max=200)],
    )
    register_number = StringField(
        _l("Vereinsregisternummer"),
        validators=[Length(max=40)],
        description=_l("Zum Beispiel VR 1234; leer lassen, wenn der Verein nicht eingetragen ist."),
    )
    contact_persons = StringField(
        _l("Ansprechpersonen"),
        validators=[DataRequired(_l("Bitte nennen Sie mindestens eine Person.")), Length(max=400)],
        description=_l("Wen das Buchungsbüro anrufen kann, mit Telefonnummer."),
    )
    name = name_field()
    email = email_field()
    password = PasswordField(
        _l("Passwort"),
        validators=[
            DataRequired(_l("Bitte wählen Sie ein Passwort.")),
            Length(min=10, max=200, message=_l("Das Passwort braucht mindestens 10 Zeichen.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Registrieren"))


class ClubLoginForm(FlaskForm):
    email = email_field(autocomplete="username")
    password = PasswordField(
        _l("Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie Ihr Passwort ein.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Anmelden"))


class SeriesForm(FlaskForm):
    """A season series: hall, weekdays, times, rhythm and date range."""

    resource_id = SelectField(_l("Halle oder Raum"), coerce=int)
    weekdays = CheckboxList(
        _l("Wochentage"),
        coerce=int,
        choices=[SelectChoice(n, label) for n, label in enumerate(WEEKDAYS)],
        validators=[InputRequired(_l("Bitte wählen Sie mindestens einen Wochentag."))],
    )
    start = TimeField(
        _l("Beginn"), validators=[InputRequired(_l("Bitte geben Sie die Anfangszeit an."))]
    )
    end = TimeField(_l("Ende"), validators=[InputRequired(_l("Bitte geben Sie die Endzeit an."))])
    every_weeks = IntegerField(
        _l("Alle wie viel Wochen"),
        default=1,
        validators=[
            InputRequired(_l("Bitte geben Sie an, alle wie viel Wochen.")),
            NumberRange(min=1, max=4, message=_l("Bitte eine Zahl von 1 bis 4.")),
        ],
    )
    first_day = DateField(
        _l("Erster Tag"), validators=[InputRequired(_l("Bitte geben Sie den ersten Tag an."))]
    )
    last_day = DateField(
        _l("Letzter Tag"), validators=[InputRequired(_l("Bitte geben Sie den letzten Tag an."))]
    )
    purpose = StringField(
        _l("Zweck"),
        default=_l("Training"),
        validators=[DataRequired(_l("Bitte geben Sie den Zweck an.")), Length(max=200)],
    )
    preview = SubmitField(_l("Termine prüfen"))
    book_free = SubmitField(_l("Die freien Termine buchen"))

    def validate_end(self, field) -> None:
        if self.start.data and field.data and field.data <= self.start.data:
            raise ValidationError(_l("Das Ende muss nach dem Beginn liegen."))

    def validate_last_day(self, field) -> None:
        if self.first_day.data and field.data:
            if field.data < self.first_day.data:
                raise ValidationError(_l("Der letzte Tag darf nicht vor dem ersten liegen."))
            if (field.data - self.first_day.data).days > 400:
                raise ValidationError(_l("Eine Serie umfasst höchstens 400 Tage."))


class QuotaForm(FlaskForm):
    """The office sets a club's weekly hours in a hall; empty removes the limit."""

    resource_id = SelectField(_l("Halle"), coerce=int)
    hours = DecimalField(
        _l("Stunden pro Woche"),
        places=1,
        validators=[
            Optional(),
            NumberRange(min=0, max=168, message=_l("Bitte eine Zahl von 0 bis 168.")),
        ],
        description=_l("Leer lassen, um die Begrenzung aufzuheben."),
    )
    submit = SubmitField(_l("Kontingent speichern"))
