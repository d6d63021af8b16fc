"""Forms of the club pages: registration, login and season series; every message German."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
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
from buchung.clock import local_today
from buchung.club_models import Season
from buchung.fees.forms import FeeOptions
from buchung.forms import email_field, name_field
from lotse.admin import CheckboxList
from lotse.inputs import LotseForm
from lotse.passwords import not_common


class ClubRegistrationForm(LotseForm):
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
            not_common,
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Registrieren"))


class ClubLoginForm(LotseForm):
    email = email_field(autocomplete="username")
    password = PasswordField(
        _l("Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie Ihr Passwort ein.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Anmelden"))


class SeriesForm(FeeOptions, LotseForm):
    """A season series: hall, weekdays, times, rhythm and date range."""

    resource_id = SelectField(_l("Halle oder Raum"), coerce=int)
    season_id = SelectField(
        _l("Saison"),
        coerce=int,
        default=0,
        description=_l(
            "Lassen Sie den ersten und letzten Tag leer, gilt die ganze Saison (ab heute)."
        ),
    )
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
    first_day = DateField(_l("Erster Tag"), validators=[Optional()])
    last_day = DateField(_l("Letzter Tag"), validators=[Optional()])
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._seasons: dict[int, Season] = {}

    def set_seasons(self, seasons: list[Season]) -> None:
        """Offer the seasons still running or to come, after "own date range"."""
        self._seasons = {s.id: s for s in seasons}
        self.season_id.choices = [SelectChoice(0, _l("Keine Saison: eigener Zeitraum"))] + [
            SelectChoice(
                s.id,
                f"{s.name} ({s.first_day:%d.%m.%Y}–{s.last_day:%d.%m.%Y})",
                render_kw={
                    "data-first": s.first_day.isoformat(),
                    "data-last": s.last_day.isoformat(),
                },
            )
            for s in seasons
        ]

    @property
    def season(self) -> Season | None:
        return self._seasons.get(self.season_id.data or 0)

    def validate(self, extra_validators=None) -> bool:
        """Besides each field: the date range, filled from the season where left empty."""
        valid = super().validate(extra_validators)
        season = self.season if not self.season_id.errors else None
        today = local_today()
        if season is not None:
            for field, day in (
                (self.first_day, max(season.first_day, today)),
                (self.last_day, season.last_day),
            ):
                if field.data is None and not field.errors:
                    field.data, field.raw_data = day, [day.isoformat()]  # shown when re-rendered
        for field, message in (
            (self.first_day, _l("Bitte geben Sie den ersten Tag an oder wählen Sie eine Saison.")),
            (self.last_day, _l("Bitte geben Sie den letzten Tag an oder wählen Sie eine Saison.")),
        ):
            if field.data is None and not field.errors:
                field.errors.append(message)
        first, last = self.first_day.data, self.last_day.data
        if self.last_day.errors or self.first_day.errors or first is None or last is None:
            return False
        problem = _range_problem(first, last, season)
        if problem:
            self.last_day.errors.append(problem)
            return False
        return valid


def _range_problem(first: date, last: date, season: Season | None) -> str | None:
    if last < first:
        return _l("Der letzte Tag darf nicht vor dem ersten liegen.")
    if (last - first).days > 400:
        return _l("Eine Serie umfasst höchstens 400 Tage.")
    if season is not None and not (season.first_day <= first and last <= season.last_day):
        return _l(
            "Die Tage müssen in der Saison „%(name)s“ liegen (%(first)s bis %(last)s).",
            name=season.name,
            first=f"{season.first_day:%d.%m.%Y}",
            last=f"{season.last_day:%d.%m.%Y}",
        )
    return None


class SeasonForm(LotseForm):
    """The booking office names a season and its first and last day."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Bitte geben Sie einen Namen an.")), Length(max=120)],
        description=_l("Zum Beispiel „Wintersaison 2026/27“."),
    )
    first_day = DateField(
        _l("Erster Tag"), validators=[InputRequired(_l("Bitte geben Sie den ersten Tag an."))]
    )
    last_day = DateField(
        _l("Letzter Tag"), validators=[InputRequired(_l("Bitte geben Sie den letzten Tag an."))]
    )
    submit = SubmitField(_l("Saison speichern"))

    def validate_last_day(self, field) -> None:
        if self.first_day.data and field.data:
            problem = _range_problem(self.first_day.data, field.data, None)
            if problem:
                raise ValidationError(problem)


class QuotaForm(LotseForm):
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


class SeasonQuotaForm(QuotaForm):
    """The office sets a club's weekly hours in a hall for one season (or the default)."""

    club_id = SelectField(_l("Verein"), coerce=int)


class CopyQuotasForm(LotseForm):
    """Copy one season's quotas into another: explicit, never silently overwriting."""

    source_id = SelectField(_l("Aus Saison"), coerce=int)
    overwrite = BooleanField(_l("Abweichende Kontingente dieser Saison überschreiben"))
    submit = SubmitField(_l("Kontingente übernehmen"))


def new_password_field() -> PasswordField:
    return PasswordField(
        _l("Neues Passwort"),
        validators=[
            DataRequired(_l("Bitte wählen Sie ein Passwort.")),
            Length(min=10, max=200, message=_l("Das Passwort braucht mindestens 10 Zeichen.")),
            not_common,
        ],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordResetRequestForm(LotseForm):
    email = email_field()
    submit = SubmitField(_l("Link senden"))


class NewPasswordForm(LotseForm):
    password = new_password_field()
    submit = SubmitField(_l("Passwort speichern"))


class InviteForm(LotseForm):
    name = name_field()
    email = email_field()
    submit = SubmitField(_l("Einladen"))


class MemberCountForm(LotseForm):
    """The office enters a club's member count (for rounds that weigh turns by members)."""

    member_count = IntegerField(
        _l("Mitgliederzahl"),
        validators=[
            InputRequired(_l("Bitte geben Sie die Mitgliederzahl an.")),
            NumberRange(min=1, max=1_000_000, message=_l("Bitte eine Zahl ab 1.")),
        ],
    )
    submit = SubmitField(_l("Mitgliederzahl speichern"))


class PublicNameForm(LotseForm):
    """The club's consent to be named on the public plan, feed and API instead of "belegt"."""

    name_public = BooleanField(
        _l("Unseren Vereinsnamen im öffentlichen Belegungsplan zeigen (statt „belegt“)"),
        description=_l(
            "Dann sehen alle, wann Ihr Verein die Halle nutzt: auf der Website, im "
            "Kalender-Abo der Halle und über die offene Schnittstelle. Namen von Personen "
            "erscheinen nie."
        ),
    )
    submit = SubmitField(_l("Speichern"))
