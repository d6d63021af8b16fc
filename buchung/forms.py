"""Forms of the booking pages (public and staff); every message is German."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import request
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from buchung.clock import NonexistentLocalTime, local_moment, to_local
from buchung.fees.forms import FeeOptions
from buchung.models import BookingKind, BookingStatus, CustomerGroup, Resource, ResourceKind
from lotse.inputs import LotseForm

KIND_LABELS = {
    ResourceKind.HALL: _l("Sporthalle"),
    ResourceKind.GYM: _l("Gymnastikraum"),
    ResourceKind.MEETING_ROOM: _l("Besprechungsraum"),
}
GROUP_LABELS = {
    CustomerGroup.CLUB: _l("Verein"),
    CustomerGroup.PRIVATE: _l("Privat"),
    CustomerGroup.COMMERCIAL: _l("Gewerblich"),
}
STATUS_LABELS = {
    BookingStatus.HELD: _l("reserviert, E-Mail noch nicht bestätigt"),
    BookingStatus.REQUESTED: _l("angefragt"),
    BookingStatus.CONFIRMED: _l("bestätigt"),
    BookingStatus.DECLINED: _l("abgelehnt"),
    BookingStatus.CANCELLED: _l("storniert"),
    BookingStatus.EXPIRED: _l("verfallen"),
}
CELL_LABELS = {
    "free": _l("frei"),
    "partial": _l("teilweise belegt"),
    "booked": _l("belegt"),
    "closed": _l("geschlossen"),
    "outside": _l("nicht geöffnet"),
    "past": _l("vergangen"),
}


def choices(labels: dict, *, blank=None) -> list[SelectChoice]:
    found = [SelectChoice("", blank)] if blank is not None else []
    return found + [SelectChoice(value.value, label) for value, label in labels.items()]


def name_field() -> StringField:
    """A person's name, required (booking, waiting list, club login)."""
    return StringField(
        _l("Ihr Name"),
        validators=[DataRequired(_l("Bitte geben Sie Ihren Namen an.")), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )


def email_field(description=None, autocomplete: str = "email") -> EmailField:
    """A required, checked e-mail address."""
    return EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse an.")),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse an.")),
            Length(max=254),
        ],
        description=description,
        render_kw={"autocomplete": autocomplete},
    )


def attach_violations(form: LotseForm, violations, blocked: list[str] | None = None) -> list[str]:
    """Put each broken rule under its form field; returns those that belong to no field.

    ``blocked``: the sentences naming what holds the time ("Drittel A ist … belegt"), put
    at the start field beside the bare "this time is taken"."""
    fields = {"date": "day", "start": "start", "end": "end", "attendees": "attendees"}
    general = []
    if blocked:
        form.start.errors = [*form.start.errors, *blocked]
    for violation in violations:
        field = getattr(form, fields.get(violation.field or "", ""), None)
        if field is None:
            general.append(str(violation.message))
        else:
            field.errors = [*field.errors, str(violation.message)]
    return general


def offered_formdata():
    """The posted form with date and times replaced by the offered free time the visitor
    chose (button ``angebot`` = ``<UTC start>/<UTC end>``), so the other fields they typed
    stay; ``None`` when no (valid) offer was chosen."""
    try:
        start, end = (datetime.fromisoformat(p) for p in request.form["angebot"].split("/"))
        if start.tzinfo is None or end.tzinfo is None or end <= start:
            return None
        first, last = to_local(start), to_local(end)
    except (KeyError, ValueError, OverflowError):
        return None
    data = request.form.copy()
    data["day"] = first.date().isoformat()
    data["start"] = f"{first:%H:%M}"
    data["end"] = f"{last:%H:%M}"  # 00:00 reads as the midnight ending the day
    return data


def prefill_times(form: TimeRangeForm, resource: Resource) -> None:
    """Fill date and times from the grid cell the visitor clicked (``?start=<UTC ISO>``):
    the end is the shortest booking allowed, or ``?ende=`` (an offered free time)."""
    try:
        start = datetime.fromisoformat(request.args.get("start", ""))
    except ValueError:
        return
    if start.tzinfo is None:  # a day only (from the staff calendar)
        form.day.data = start.date()
        return
    try:
        wished = datetime.fromisoformat(request.args.get("ende", ""))
    except ValueError:
        wished = None
    try:
        end = start + timedelta(minutes=resource.root.min_minutes)
        if wished is not None and wished.tzinfo is not None and wished > start:
            end = wished
        local, local_end = to_local(start), to_local(end)
    except OverflowError:  # a hand-made link at the end of the calendar
        return
    form.day.data = local.date()
    form.start.data = local.time()
    form.end.data = local_end.time()


class FilterForm(LotseForm):
    """The filters above the resource list (GET, nothing changes: no CSRF token)."""

    class Meta:
        csrf = False

    kind = SelectField(
        _l("Art"), choices=choices(KIND_LABELS, blank=_l("alle")), validators=[Optional()]
    )
    capacity = IntegerField(
        _l("Mindestens Plätze für"),
        validators=[Optional(), NumberRange(min=1, message=_l("Bitte eine Zahl ab 1."))],
    )
    equipment = StringField(_l("Ausstattung"), validators=[Optional(), Length(max=60)])
    day = DateField(
        _l("Frei am"),
        validators=[Optional()],
        description=_l("Zeigt nur Räume, die an diesem Tag noch freie Zeiten haben."),
    )
    submit = SubmitField(_l("Filtern"))


class TimeRangeForm(LotseForm):
    """Date, start and end in local time; ``moments()`` turns them into UTC."""

    day = DateField(
        _l("Datum"),
        validators=[InputRequired(_l("Bitte geben Sie das Datum an."))],
    )
    start = TimeField(
        _l("Beginn"), validators=[InputRequired(_l("Bitte geben Sie die Anfangszeit an."))]
    )
    end = TimeField(
        _l("Ende"),
        validators=[InputRequired(_l("Bitte geben Sie die Endzeit an."))],
        description=_l("00:00 bedeutet Mitternacht am Ende des Tages."),
    )

    def _format_errors(self) -> None:
        for name in ("day", "start", "end"):
            field = getattr(self, name)
            if field.raw_data and field.raw_data[0] and field.data is None:
                field.errors[:] = [_l("Bitte im Format TT.MM.JJJJ bzw. HH:MM angeben.")]

    def moments(self) -> tuple[datetime, datetime] | None:
        """UTC start and end; adds a field error and returns ``None`` for skipped times."""
        day: date = self.day.data
        start = self.start.data.hour * 60 + self.start.data.minute
        end = self.end.data.hour * 60 + self.end.data.minute or 1440
        moments = []
        for field, minute in ((self.start, start), (self.end, end)):
            try:
                moments.append(local_moment(day, minute, strict=True))
            except NonexistentLocalTime:
                field.errors.append(
                    _l("Diese Uhrzeit gibt es in der Nacht der Zeitumstellung nicht.")
                )
        return tuple(moments) if len(moments) == 2 else None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        self._format_errors()
        return valid


class BookingForm(FeeOptions, TimeRangeForm):
    """What a citizen or club enters to book a hall or room."""

    purpose = StringField(
        _l("Zweck"),
        validators=[DataRequired(_l("Bitte geben Sie den Zweck an.")), Length(max=200)],
        description=_l("Zum Beispiel: Training, Geburtstagsfeier, Versammlung."),
    )
    attendees = IntegerField(
        _l("Anzahl Personen"),
        validators=[
            InputRequired(_l("Bitte geben Sie die Anzahl der Personen an.")),
            NumberRange(min=1, max=10000, message=_l("Bitte eine Zahl von 1 bis 10000.")),
        ],
    )
    customer_group = RadioField(
        _l("Sie buchen als"),
        choices=choices(GROUP_LABELS),
        validators=[InputRequired(_l("Bitte wählen Sie aus, als wer Sie buchen."))],
    )
    contact_name = name_field()
    contact_email = email_field(_l("Sie erhalten einen Link, mit dem Sie die Buchung bestätigen."))
    contact_phone = TelField(
        _l("Telefon"),
        validators=[DataRequired(_l("Bitte geben Sie eine Telefonnummer an.")), Length(max=40)],
        render_kw={"autocomplete": "tel"},
    )
    submit = SubmitField(_l("Verbindlich buchen"))


class WaitlistForm(TimeRangeForm):
    """Queue for a taken time: we write when it frees up."""

    name = name_field()
    email = email_field()
    submit = SubmitField(_l("Auf die Warteliste"))


class StaffBookingForm(TimeRangeForm):
    """A booking on behalf of a caller, or a blocking, entered by the booking office."""

    resource_id = SelectField(_l("Raum"), coerce=int)
    kind = RadioField(
        _l("Art"),
        choices=[
            SelectChoice(
                BookingKind.BOOKING.value, _l("Buchung für eine Anruferin / einen Anrufer")
            ),
            SelectChoice(BookingKind.BLOCKING.value, _l("Blockung (Wartung, Veranstaltung)")),
        ],
        default=BookingKind.BOOKING.value,
        validators=[InputRequired()],
    )
    purpose = StringField(
        _l("Zweck"),
        validators=[DataRequired(_l("Bitte geben Sie den Zweck an.")), Length(max=200)],
    )
    attendees = IntegerField(
        _l("Anzahl Personen"),
        validators=[
            Optional(),
            NumberRange(min=1, max=10000, message=_l("Bitte eine Zahl von 1 bis 10000.")),
        ],
    )
    customer_group = RadioField(
        _l("Kundengruppe"), choices=choices(GROUP_LABELS), validators=[Optional()]
    )
    contact_name = StringField(_l("Name"), validators=[Length(max=120)])
    contact_email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            Optional(),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse an.")),
            Length(max=254),
        ],
        description=_l("Wenn angegeben, erhält die Person die Bestätigung mit Kalenderdatei."),
    )
    contact_phone = TelField(_l("Telefon"), validators=[Length(max=40)])
    despite_closure = BooleanField(_l("Trotz der Sperrzeit eintragen"))
    submit = SubmitField(_l("Eintragen"))

    def validate_contact_name(self, field) -> None:
        if self.kind.data == BookingKind.BOOKING and not field.data.strip():
            raise ValidationError(_l("Bitte geben Sie an, für wen gebucht wird."))


class ReasonForm(LotseForm):
    """Decline or cancel with a reason the booker reads in the mail."""

    reason = TextAreaField(
        _l("Begründung"),
        validators=[DataRequired(_l("Bitte geben Sie eine Begründung an.")), Length(max=2000)],
    )
    submit = SubmitField(_l("Absenden"))


class ConfirmForm(LotseForm):
    """A button only: confirm the e-mail link, approve, or cancel without a reason."""

    submit = SubmitField(_l("Bestätigen"))
