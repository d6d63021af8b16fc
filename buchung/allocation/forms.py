"""Forms of the season allocation: the application, the round, classes and hand edits."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
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

from buchung.admin_forms import WEEKDAYS
from lotse.admin import CheckboxList
from lotse.inputs import LotseForm

DURATIONS = [60, 90, 120, 150, 180, 240]
NO_HALL = 0
NEW_SEASON = 0


def weekday_choices() -> list[SelectChoice]:
    return [SelectChoice(n, label) for n, label in enumerate(WEEKDAYS)]


def _grid_time(field) -> None:
    if field.data and field.data.minute % 15:
        raise ValidationError(_l("Bitte eine Uhrzeit im Viertelstundenraster, z. B. 17:30."))


class ApplicationForm(LotseForm):
    """One team's application for weekly sessions in the round's halls."""

    team = StringField(
        _l("Mannschaft oder Gruppe"),
        validators=[
            DataRequired(_l("Bitte nennen Sie die Mannschaft oder Gruppe.")),
            Length(max=120),
        ],
        description=_l("Zum Beispiel „Handball D-Jugend“ oder „Klasse 5b“."),
    )
    priority_class_id = SelectField(_l("Art der Nutzung"), coerce=int)
    sessions_per_week = IntegerField(
        _l("Einheiten pro Woche"),
        default=1,
        validators=[
            InputRequired(_l("Bitte geben Sie an, wie oft pro Woche.")),
            NumberRange(min=1, max=7, message=_l("Bitte eine Zahl von 1 bis 7.")),
        ],
    )
    duration_minutes = SelectField(
        _l("Dauer einer Einheit"),
        coerce=int,
        default=90,
        choices=[SelectChoice(m, _l("%(minutes)s Minuten", minutes=m)) for m in DURATIONS],
    )
    first_weekdays = CheckboxList(
        _l("Erstwunsch: Wochentage"),
        coerce=int,
        choices=weekday_choices(),
        validators=[InputRequired(_l("Bitte wählen Sie mindestens einen Wochentag."))],
    )
    first_start = TimeField(
        _l("Erstwunsch: Beginn"),
        validators=[InputRequired(_l("Bitte geben Sie die gewünschte Anfangszeit an."))],
    )
    second_weekdays = CheckboxList(
        _l("Zweitwunsch: Wochentage"),
        coerce=int,
        choices=weekday_choices(),
        validators=[Optional()],
    )
    second_start = TimeField(_l("Zweitwunsch: Beginn"), validators=[Optional()])
    hall_1 = SelectField(_l("Wunschhalle 1"), coerce=int)
    hall_2 = SelectField(_l("Wunschhalle 2"), coerce=int, default=NO_HALL)
    hall_3 = SelectField(_l("Wunschhalle 3"), coerce=int, default=NO_HALL)
    evidence = TextAreaField(
        _l("Nachweis für die Art der Nutzung"),
        validators=[Length(max=1000)],
        description=_l(
            "Nötig für Klassen mit Nachweis, z. B. bei Wettkampf Liga und Spielklasse der "
            "Mannschaft. Bis das Buchungsbüro den Nachweis bestätigt, zählt der Antrag in "
            "der nächsten Klasse."
        ),
    )
    member_count = IntegerField(
        _l("Mitgliederzahl des Vereins"),
        validators=[
            InputRequired(_l("Bitte geben Sie die Mitgliederzahl Ihres Vereins an.")),
            NumberRange(min=1, max=1_000_000, message=_l("Bitte eine Zahl ab 1.")),
        ],
        description=_l(
            "Diese Runde verteilt die Stunden unter Gleichrangigen im Verhältnis zur "
            "Mitgliederzahl. Bitte die Zahl der letzten Bestandsmeldung; sie gilt für alle "
            "Anträge Ihres Vereins und das Buchungsbüro sieht sie."
        ),
    )
    remark = TextAreaField(_l("Bemerkung"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Antrag stellen"))
    evidence_class_ids: set[int] = set()  # classes that need evidence, set by the view

    def validate_evidence(self, field) -> None:
        if (
            self.priority_class_id.data in self.evidence_class_ids
            and not (field.data or "").strip()
        ):
            raise ValidationError(
                _l("Für diese Art der Nutzung nennen Sie bitte einen Nachweis, z. B. die Liga.")
            )

    def validate_first_start(self, field) -> None:
        _grid_time(field)
        minutes = self.minutes(field)
        if minutes is not None and minutes + (self.duration_minutes.data or 0) > 1440:
            raise ValidationError(_l("Die Einheit muss vor Mitternacht enden."))

    def validate_second_start(self, field) -> None:
        _grid_time(field)

    def validate_second_weekdays(self, field) -> None:
        if bool(field.data) != bool(self.second_start.data):
            raise ValidationError(
                _l("Für einen Zweitwunsch bitte Wochentage und Beginn angeben (oder beides leer).")
            )

    def validate_hall_1(self, field) -> None:
        if field.data == NO_HALL:
            raise ValidationError(_l("Bitte wählen Sie mindestens eine Halle."))
        picked = [h for h in (field.data, self.hall_2.data, self.hall_3.data) if h != NO_HALL]
        if len(set(picked)) != len(picked):
            raise ValidationError(_l("Bitte jede Halle nur einmal nennen."))

    def minutes(self, field) -> int | None:
        return field.data.hour * 60 + field.data.minute if field.data else None

    def hall_ids(self) -> list[int]:
        return [h for h in (self.hall_1.data, self.hall_2.data, self.hall_3.data) if h != NO_HALL]


class RoundForm(LotseForm):
    """The office opens a round: name, season, halls and deadline."""

    name = StringField(
        _l("Name der Runde"),
        validators=[DataRequired(_l("Bitte geben Sie einen Namen an.")), Length(max=120)],
    )
    season_id = SelectField(
        _l("Saison"),
        coerce=int,
        description=_l("Eine bestehende Saison, oder „Neue Saison“ mit den Angaben darunter."),
    )
    season_name = StringField(
        _l("Neue Saison: Name"),
        validators=[Length(max=120)],
        description=_l("Zum Beispiel „Wintersaison 2027/28“."),
    )
    first_day = DateField(_l("Neue Saison: erster Tag"), validators=[Optional()])
    last_day = DateField(_l("Neue Saison: letzter Tag"), validators=[Optional()])
    resource_ids = CheckboxList(
        _l("Hallen"),
        coerce=int,
        validators=[InputRequired(_l("Bitte wählen Sie mindestens eine Halle."))],
    )
    deadline_day = DateField(
        _l("Antragsfrist: Tag"),
        validators=[InputRequired(_l("Bitte geben Sie die Antragsfrist an."))],
    )
    deadline_time = TimeField(
        _l("Antragsfrist: Uhrzeit"),
        default=None,
        validators=[InputRequired(_l("Bitte geben Sie die Uhrzeit der Frist an."))],
    )
    turns = SelectField(
        _l("Gleichrangige kommen reihum an die Reihe je"),
        default="club",
        choices=[
            SelectChoice("club", _l("Antragsteller: jeder Verein gleich viele Stunden")),
            SelectChoice(
                "teams", _l("Mannschaft: Stunden im Verhältnis zur Zahl der Anträge des Vereins")
            ),
            SelectChoice(
                "members", _l("Mitglied: Stunden im Verhältnis zur Mitgliederzahl des Vereins")
            ),
        ],
    )
    submit = SubmitField(_l("Runde eröffnen"))

    def validate_season_name(self, field) -> None:
        """A new season needs a name and its first and last day, in order."""
        if self.season_id.data != NEW_SEASON:
            return
        if not (field.data or "").strip():
            raise ValidationError(_l("Bitte geben Sie der neuen Saison einen Namen."))
        first, last = self.first_day.data, self.last_day.data
        if not first or not last:
            raise ValidationError(_l("Bitte geben Sie den ersten und letzten Tag der Saison an."))
        if last < first:
            raise ValidationError(_l("Der letzte Tag darf nicht vor dem ersten liegen."))


class PriorityClassForm(LotseForm):
    """A priority class of the town (lower rank is served first)."""

    name = StringField(
        _l("Name der Klasse"),
        validators=[DataRequired(_l("Bitte geben Sie einen Namen an.")), Length(max=80)],
    )
    rank = IntegerField(
        _l("Rang"),
        validators=[
            InputRequired(_l("Bitte geben Sie den Rang an.")),
            NumberRange(min=1, max=99, message=_l("Bitte eine Zahl von 1 bis 99.")),
        ],
        description=_l("1 kommt zuerst."),
    )
    open_to_clubs = BooleanField(
        _l("Vereine dürfen diese Klasse selbst wählen"),
        default=True,
        description=_l("Schule und Kita weist das Buchungsbüro zu."),
    )
    needs_evidence = BooleanField(
        _l("Nur mit Nachweis, den das Buchungsbüro bestätigt"),
        description=_l(
            "Z. B. Wettkampf: Liga oder Spielklasse. Bis zur Bestätigung zählt ein Antrag "
            "in der nächsten Klasse ohne Nachweis."
        ),
    )
    submit = SubmitField(_l("Klasse anlegen"))


class ApplicantClassForm(LotseForm):
    """The office fixes an applicant's class (a school is always Schule)."""

    club_id = SelectField(_l("Antragsteller"), coerce=int)
    priority_class_id = SelectField(_l("Feste Klasse"), coerce=int)
    submit = SubmitField(_l("Klasse zuweisen"))


class RequestClassForm(LotseForm):
    """The office corrects the class an applicant claimed for one application."""

    priority_class_id = SelectField(_l("Prioritätsklasse"), coerce=int)
    submit = SubmitField(_l("Klasse ändern"))


class AllocationForm(LotseForm):
    """The office adds a session by hand on the grid."""

    request_id = SelectField(_l("Antrag"), coerce=int)
    resource_id = SelectField(_l("Halle oder Hallenteil"), coerce=int)
    weekday = SelectField(_l("Wochentag"), coerce=int, choices=weekday_choices())
    start = TimeField(
        _l("Beginn"), validators=[InputRequired(_l("Bitte geben Sie die Anfangszeit an."))]
    )
    submit = SubmitField(_l("Zuteilen"))


class UnpublishForm(LotseForm):
    """Confirm removing the named series; the ids guard against a changed list."""

    series_ids = HiddenField()
    confirm = BooleanField(
        _l("Ich habe die Liste geprüft: diese Serien mit allen Terminen löschen."),
        validators=[DataRequired(_l("Bitte bestätigen Sie, dass Sie die Liste geprüft haben."))],
    )
    submit = SubmitField(_l("Veröffentlichung zurücknehmen"))


class PublishForm(LotseForm):
    """Publish after the check; dates lost to rules or bookings must be accepted, and the
    digest guards against a list that changed since the office read it."""

    gaps = HiddenField()
    accept = BooleanField(
        _l("Lücken akzeptieren: ich habe die Liste geprüft, diese Termine werden nicht gebucht.")
    )
    submit = SubmitField(_l("Jetzt veröffentlichen und Serien buchen"))
