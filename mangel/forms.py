"""Forms of the citizen side: the report steps, confirmation and support."""

from __future__ import annotations

import re
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    Form,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
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

from lotse.admin import CheckboxList
from lotse.inputs import LotseForm
from mangel.models import QUESTION_TYPE_LABELS, Category, CategoryQuestion, QuestionType

EMAIL_MESSAGE = _l(
    "Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@beispiel.de."
)


def strip(value):
    """Browsers and phones add stray spaces to typed addresses; they are no mistake."""
    return value.strip() if isinstance(value, str) else value


DATE_RE = re.compile(r"^(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})\.(\d{1,2})\.(\d{4}))$")


class LocationFields:
    """Address search and typed coordinates: the way to place a report without the map."""

    address = StringField(
        _l("Adresse"),
        validators=[Length(max=200)],
        description=_l("Straße und Hausnummer, zum Beispiel „Bahnhofstraße 12“."),
        render_kw={"autocomplete": "off"},
    )
    lat = StringField(
        _l("Breitengrad (Nord)"),
        validators=[Length(max=30)],
        description=_l("Dezimalzahl, zum Beispiel 50,7512"),
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    lon = StringField(
        _l("Längengrad (Ost)"),
        validators=[Length(max=30)],
        description=_l("Dezimalzahl, zum Beispiel 6,4873"),
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )


class LocationForm(LocationFields, Form):
    """Step 2, sent by GET: nothing is stored, so it needs no CSRF token."""

    category = HiddenField()


PHOTO_ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif"


class PhotoLocationForm(LotseForm):
    """Photo-first: the photo places the pin (from its EXIF position) and joins the report."""

    category = HiddenField()
    photo = MultipleFileField(
        _l("Foto aufnehmen oder auswählen"),
        description=_l(
            "Viele Handys speichern den Aufnahmeort im Foto: Daraus setzen wir die "
            "Markierung. Das Foto fügen wir Ihrer Meldung bei; Ortsangaben und andere "
            "Metadaten entfernen wir."
        ),
        render_kw={"accept": PHOTO_ACCEPT, "capture": "environment"},
    )
    submit = SubmitField(_l("Foto verwenden"))


class ReportForm(LotseForm):
    """Step 3: everything about the report; category and place arrive from steps 1 and 2."""

    category = HiddenField()
    lat = HiddenField()
    lon = HiddenField()
    address = HiddenField()
    description = TextAreaField(
        _l("Beschreibung"),
        description=_l("Was ist kaputt oder stört? Bitte keine Namen oder Kfz-Kennzeichen."),
    )
    photos = MultipleFileField(
        _l("Fotos (freiwillig, bis zu 3)"),
        description=_l(
            "JPEG, PNG, WebP oder HEIC. Ortsangaben und andere Metadaten entfernen wir."
        ),
        render_kw={"accept": PHOTO_ACCEPT},
    )
    name = StringField(
        _l("Ihr Name (freiwillig)"),
        validators=[Optional(), Length(max=120)],
        description=_l("Nur für Rückfragen. Ihr Name wird nie veröffentlicht."),
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Ihre E-Mail-Adresse"),
        filters=[strip],
        description=_l(
            "Wir schicken Ihnen einen Link zum Bestätigen. Ihre Adresse wird nie veröffentlicht."
        ),
        render_kw={"autocomplete": "email"},
    )
    phone = TelField(
        _l("Telefon für Rückfragen (freiwillig)"),
        validators=[Optional(), Length(max=40)],
        render_kw={"autocomplete": "tel"},
    )
    consent = BooleanField(
        _l("Ich habe die Datenschutzerklärung gelesen und bin mit der Verarbeitung einverstanden."),
        validators=[DataRequired(_l("Bitte stimmen Sie der Datenschutzerklärung zu."))],
    )
    # Honeypot: hidden from people, filled in by bots.
    website = StringField(_l("Webseite (bitte leer lassen)"))
    submit = SubmitField(_l("Meldung absenden"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config = current_app.config
        max_length = config["MANGEL_DESCRIPTION_MAX"]
        self.description.validators = [
            DataRequired(_l("Bitte beschreiben Sie den Mangel.")),
            Length(
                max=max_length,
                message=_l(
                    "Die Beschreibung darf höchstens %(max)d Zeichen lang sein.", max=max_length
                ),
            ),
        ]
        self.description.render_kw = {"maxlength": max_length}
        if config["MANGEL_ALLOW_ANONYMOUS"]:
            self.email.validators = [Optional(), Email(EMAIL_MESSAGE), Length(max=254)]
            self.email.label.text = _l("Ihre E-Mail-Adresse (freiwillig)")
        else:
            self.email.validators = [
                DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse an.")),
                Email(EMAIL_MESSAGE),
                Length(max=254),
            ]

    def question_fields(self) -> list:
        return [field for field in self if field.name.startswith("q_")]

    def answers(self, category: Category) -> dict:
        """The answers to the category's questions, keyed by question code (Open311 style)."""
        answers = {}
        for question in category.questions:
            value = self[f"q_{question.code}"].data
            if value not in (None, "", []):
                answers[question.code] = value.strip() if isinstance(value, str) else value
        return answers


def _number(form, field):
    if field.data and not re.fullmatch(r"-?\d+([.,]\d+)?", field.data.strip()):
        raise ValidationError(_l("Bitte geben Sie eine Zahl ein, zum Beispiel 12 oder 3,5."))


def _date(form, field):
    if not field.data:
        return
    match = DATE_RE.match(field.data.strip())
    try:
        if not match:
            raise ValueError
        if match.group(1):
            date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        else:
            date(int(match.group(6)), int(match.group(5)), int(match.group(4)))
    except ValueError:
        raise ValidationError(
            _l("Bitte geben Sie ein Datum an, zum Beispiel 24.12.2026.")
        ) from None


def question_field(question: CategoryQuestion):
    """The form field that asks one extra question, with its type's check."""
    kind = QuestionType(question.datatype)
    first = (
        InputRequired(_l("Bitte beantworten Sie diese Frage.")) if question.required else Optional()
    )
    choices = [SelectChoice(o["key"], o["name"]) for o in question.options or []]
    if kind is QuestionType.SINGLEVALUELIST:
        return RadioField(
            question.label,
            choices=choices,
            validators=[first],
            validate_choice=True,
        )
    if kind is QuestionType.MULTIVALUELIST:
        validators = [DataRequired(_l("Bitte wählen Sie mindestens eine Antwort."))]
        return CheckboxList(
            question.label, choices=choices, validators=validators if question.required else []
        )
    if kind is QuestionType.TEXT:
        return TextAreaField(question.label, validators=[first, Length(max=2000)])
    if kind is QuestionType.NUMBER:
        return StringField(
            question.label,
            validators=[first, Length(max=30), _number],
            render_kw={"inputmode": "decimal"},
        )
    if kind is QuestionType.DATETIME:
        return StringField(question.label, validators=[first, _date], render_kw={"type": "date"})
    return StringField(question.label, validators=[first, Length(max=200)])


def report_form_class(category: Category | None) -> type[ReportForm]:
    """The report form with one extra field per question of the category."""
    if category is None or not category.questions:
        return ReportForm
    fields = {f"q_{q.code}": question_field(q) for q in category.questions}
    return type("CategoryReportForm", (ReportForm,), fields)


def required_email(description) -> EmailField:
    """The citizen's e-mail address for a confirmation link, with what we keep of it."""
    return EmailField(
        _l("Ihre E-Mail-Adresse"),
        filters=[strip],
        validators=[
            DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse an.")),
            Email(EMAIL_MESSAGE),
            Length(max=254),
        ],
        description=description,
        render_kw={"autocomplete": "email"},
    )


class SupportForm(LotseForm):
    """ "Ich bin auch betroffen": an e-mail address to confirm, kept only as a hash unless
    the supporter wants to hear about changes."""

    email = required_email(
        _l(
            "Zum Bestätigen. Wir speichern die Adresse nur, wenn Sie unten zustimmen, "
            "sonst nur einen Prüfwert, damit jede Person einmal zählt."
        )
    )
    notify = BooleanField(
        _l("Mich per E-Mail über den weiteren Stand informieren"),
        description=_l(
            "Dann speichern wir Ihre Adresse, bis die Meldung erledigt ist, und schreiben "
            "Ihnen bei jeder Statusänderung."
        ),
    )
    website = StringField(_l("Webseite (bitte leer lassen)"))
    submit = SubmitField(_l("Ich bin auch betroffen"))


class ResendForm(LotseForm):
    """ "Mail erneut senden" on the thanks page."""

    submit = SubmitField(_l("Mail erneut senden"))


class AdditionForm(LotseForm):
    """ "Ergänzen" on the tracking page: more text, more photos, or both."""

    text = TextAreaField(
        _l("Was möchten Sie ergänzen?"),
        validators=[Length(max=2000, message=_l("Bitte höchstens 2000 Zeichen."))],
        description=_l("Die zuständige Stelle bekommt Ihre Ergänzung per E-Mail."),
        render_kw={"maxlength": 2000},
    )
    photos = MultipleFileField(
        _l("Fotos (freiwillig)"),
        description=_l(
            "JPEG, PNG, WebP oder HEIC. Ortsangaben und andere Metadaten entfernen wir."
        ),
        render_kw={"accept": PHOTO_ACCEPT},
    )
    website = StringField(_l("Webseite (bitte leer lassen)"))
    submit = SubmitField(_l("Ergänzung senden"))


class WithdrawForm(LotseForm):
    """ "Zurückziehen" on the tracking page, after a page that says what it means."""

    reason = TextAreaField(
        _l("Grund (freiwillig)"),
        validators=[Optional(), Length(max=1000, message=_l("Bitte höchstens 1000 Zeichen."))],
        description=_l("Zum Beispiel „Hat sich erledigt“. Nur die zuständige Stelle liest ihn."),
    )
    submit = SubmitField(_l("Ja, Meldung zurückziehen"))


class ConfirmForm(LotseForm):
    """The button behind an e-mail link: confirming changes state, so it is a POST."""

    submit = SubmitField(_l("Jetzt bestätigen"))


# --- staff: categories and their questions -------------------------------------------

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


class CategoryForm(LotseForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Bitte geben Sie einen Namen ein.")), Length(max=120)],
    )
    parent_id = SelectField(_l("Hauptkategorie"), coerce=int)
    description = TextAreaField(
        _l("Hinweis für Bürgerinnen und Bürger"), validators=[Optional(), Length(max=500)]
    )
    department_id = SelectField(_l("Zuständiger Fachbereich"), coerce=int)
    photo_required = BooleanField(_l("Foto ist Pflicht"))
    duplicate_radius_m = IntegerField(
        _l("Umkreis für ähnliche Meldungen (Meter)"),
        default=50,
        validators=[
            InputRequired(_l("Bitte geben Sie eine Zahl von 0 bis 2000 ein.")),
            NumberRange(0, 2000, _l("Bitte geben Sie eine Zahl von 0 bis 2000 ein.")),
        ],
        description=_l("0 schaltet den Hinweis auf ähnliche Meldungen ab."),
    )
    position = IntegerField(
        _l("Reihenfolge"),
        default=0,
        validators=[InputRequired(_l("Bitte geben Sie eine Zahl ein.")), NumberRange(0, 999)],
    )
    active = BooleanField(_l("Aktiv (Bürgerinnen und Bürger können sie wählen)"), default=True)
    submit = SubmitField(_l("Speichern"))

    def __init__(self, *args, category: Category | None = None, mains=(), departments=(), **kw):
        super().__init__(*args, **kw)
        self._category = category
        self.parent_id.choices = [
            SelectChoice(0, _l("– keine: dies ist eine Hauptkategorie –"))
        ] + [SelectChoice(m.id, m.name) for m in mains if category is None or m.id != category.id]
        self.department_id.choices = [SelectChoice(0, _l("– keiner –"))] + [
            SelectChoice(d.id, d.name) for d in departments
        ]

    def validate_parent_id(self, field):
        if field.data and self._category is not None and self._category.children:
            raise ValidationError(
                _l("Diese Kategorie hat Unterkategorien und muss eine Hauptkategorie bleiben.")
            )


class QuestionForm(LotseForm):
    label = StringField(
        _l("Frage"),
        validators=[DataRequired(_l("Bitte geben Sie die Frage ein.")), Length(max=200)],
    )
    code = StringField(
        _l("Kennung"),
        validators=[DataRequired(_l("Bitte geben Sie eine Kennung ein.")), Length(max=50)],
        description=_l("Kleinbuchstaben, Ziffern und _, zum Beispiel „mastnummer“ (Open311)."),
    )
    datatype = SelectField(_l("Art der Antwort"))
    required = BooleanField(_l("Antwort ist Pflicht"))
    options = TextAreaField(
        _l("Auswahlmöglichkeiten"),
        validators=[Optional(), Length(max=4000)],
        description=_l("Nur für Auswahl-Fragen: eine Möglichkeit je Zeile."),
    )
    position = IntegerField(
        _l("Reihenfolge"),
        default=0,
        validators=[InputRequired(_l("Bitte geben Sie eine Zahl ein.")), NumberRange(0, 999)],
    )
    submit = SubmitField(_l("Speichern"))

    def __init__(self, *args, category: Category, question=None, **kw):
        super().__init__(*args, **kw)
        self._category, self._question = category, question
        self.datatype.choices = [
            SelectChoice(kind.value, label) for kind, label in QUESTION_TYPE_LABELS.items()
        ]

    def validate_code(self, field):
        field.data = field.data.strip()
        if not CODE_RE.match(field.data):
            raise ValidationError(
                _l("Nur Kleinbuchstaben, Ziffern und _, beginnend mit einem Buchstaben.")
            )
        for other in self._category.questions:
            if other.code == field.data and other is not self._question:
                raise ValidationError(_l("Diese Kennung gibt es in der Kategorie schon."))

    def validate_options(self, field):
        if QuestionType(self.datatype.data).has_options and not self.option_list():
            raise ValidationError(_l("Bitte geben Sie mindestens eine Möglichkeit an."))

    def option_list(self, existing: list[dict] = ()) -> list[dict]:
        """Options as Open311 lists them: a key and the name shown.

        A name kept from before keeps its key, so earlier answers still read right.
        """
        if not QuestionType(self.datatype.data).has_options:
            return []
        known = {option["name"]: option["key"] for option in existing}
        last = max((int(o["key"]) for o in existing if str(o["key"]).isdigit()), default=0)
        options = []
        for line in (self.options.data or "").splitlines():
            name = line.strip()
            if not name or any(o["name"] == name for o in options):
                continue
            if name not in known:
                last += 1
            options.append({"key": known.get(name, str(last)), "name": name})
        return options
