"""Forms of the staff workbench: one small form per action on a report."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
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

from lotse.extensions import db
from lotse.geo import in_town
from lotse.inputs import LotseForm
from lotse.models import Department
from mangel.models import Category, ReportStatus
from mangel.workbench.models import PRIORITY_LABELS

NOTE_REQUIRED = frozenset(
    {ReportStatus.UNSOLVABLE, ReportStatus.NOT_RESPONSIBLE, ReportStatus.DUPLICATE}
)


def department_choices() -> list[SelectChoice]:
    """Every department, for forwarding and assigning (any department may receive)."""
    departments = db.session.scalars(select(Department).order_by(Department.name))
    return [SelectChoice(d.id, d.name) for d in departments]


def category_choices() -> list[SelectChoice]:
    """Every leaf category, the ones reports are filed under."""
    leaves = db.session.scalars(
        select(Category).where(Category.parent_id.is_not(None)).options(joinedload(Category.parent))
    )
    return sorted((SelectChoice(c.id, c.full_name) for c in leaves), key=lambda c: c.label)


class ActionForm(LotseForm):
    """A button-only action (accept responsibility); the CSRF token is all it carries."""


class StatusForm(LotseForm):
    """A public status change; some statuses need a note the public can read."""

    status = SelectField(
        _l("Neuer Status"), choices=[SelectChoice(s.value, s.label) for s in ReportStatus]
    )
    public_note = TextAreaField(
        _l("Öffentliche Notiz"),
        validators=[Length(max=2000)],
        description=_l("Sichtbar auf der öffentlichen Seite der Meldung."),
        render_kw={"rows": 3},
    )

    after_photo = FileField(
        _l("Foto danach (freiwillig)"),
        description=_l(
            "Zeigt die behobene Stelle. Nur beim Status „erledigt“; es wird mit der Notiz "
            "veröffentlicht."
        ),
        render_kw={"accept": "image/jpeg,image/png,image/webp,image/heic"},
    )

    def validate_after_photo(self, field) -> None:
        """A photo of the repaired spot belongs to closing the report as fixed."""
        if field.data and self.status.data != ReportStatus.FIXED.value:
            raise ValidationError(
                _l(
                    "Ein Foto danach gibt es nur zum Status „%(status)s“.",
                    status=ReportStatus.FIXED.label,
                )
            )

    def validate_public_note(self, field) -> None:
        """Nicht lösbar, nicht zuständig and Duplikat must tell the citizen why."""
        status = ReportStatus._value2member_map_.get(self.status.data)
        if status in NOTE_REQUIRED and not (field.data or "").strip():
            raise ValidationError(
                _l(
                    "Bitte begründen Sie den Status „%(status)s“ in einer öffentlichen Notiz.",
                    status=status.label,
                )
            )


class NoteForm(LotseForm):
    """An internal note for colleagues."""

    text = TextAreaField(
        _l("Interne Notiz"),
        validators=[DataRequired(), Length(max=4000)],
        render_kw={"rows": 3},
    )


class ForwardForm(LotseForm):
    """Hand the report to another department."""

    department_id = SelectField(_l("Abteilung"), coerce=int)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.department_id.choices = department_choices()


class CategoryForm(LotseForm):
    """Move the report to another category."""

    category_id = SelectField(_l("Kategorie"), coerce=int)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.category_id.choices = category_choices()


class LocationForm(LotseForm):
    """Move the report to where the defect really is (inside the town)."""

    lat = FloatField(_l("Breitengrad"), validators=[InputRequired(), NumberRange(min=-90, max=90)])
    lon = FloatField(_l("Längengrad"), validators=[InputRequired(), NumberRange(min=-180, max=180)])

    def validate_lon(self, field) -> None:
        """The point must lie inside the town's boundary."""
        if self.lat.data is None or field.data is None:
            return
        if not in_town(self.lat.data, field.data):
            raise ValidationError(_l("Dieser Ort liegt außerhalb des Gemeindegebiets."))


class PlanForm(LotseForm):
    """Priority and the expected completion date."""

    priority = SelectField(
        _l("Priorität"),
        coerce=int,
        choices=[SelectChoice(k, v) for k, v in PRIORITY_LABELS.items()],
    )
    due_date = DateField(_l("Voraussichtlich erledigt bis"), validators=[Optional()])


class ModerationForm(LotseForm):
    """What the public sees: description, photos, the whole report, the public text."""

    description = TextAreaField(
        _l("Öffentliche Beschreibung"),
        validators=[Optional(), Length(max=4000)],
        render_kw={"rows": 3},
    )
    description_released = BooleanField(_l("Beschreibung freigeben"))
    photos_released = BooleanField(_l("Fotos freigeben"))
    hidden = BooleanField(_l("Meldung vollständig verbergen"))


class RedactForm(LotseForm):
    """Black rectangles on a photo, in pixels of the stored photo.

    Drawn on the photo (the script fills ``rects`` with "x,y,w,h;…"), or typed as one
    rectangle in the number fields, which work without script and from the keyboard.
    """

    rects = HiddenField()
    x = IntegerField(_l("Links (x)"), validators=[Optional(), NumberRange(min=0)])
    y = IntegerField(_l("Oben (y)"), validators=[Optional(), NumberRange(min=0)])
    w = IntegerField(_l("Breite"), validators=[Optional(), NumberRange(min=1)])
    h = IntegerField(_l("Höhe"), validators=[Optional(), NumberRange(min=1)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.boxes: list[tuple[int, int, int, int]] = []

    def validate_rects(self, field) -> None:
        """Drawn rectangles, else the typed one; at least one of them."""
        for part in filter(None, (field.data or "").split(";")):
            numbers = part.split(",")
            if len(numbers) != 4 or not all(n.strip().isdigit() for n in numbers):
                raise ValidationError(_l("Die gezeichneten Bereiche sind nicht lesbar."))
            x, y, w, h = (int(n) for n in numbers)
            if w and h:
                self.boxes.append((x, y, x + w, y + h))
        if self.boxes:
            return
        typed = (self.x.data, self.y.data, self.w.data, self.h.data)
        if None in typed:
            raise ValidationError(
                _l(
                    "Bitte ziehen Sie ein Rechteck über das Foto oder geben Sie Links, Oben, "
                    "Breite und Höhe an."
                )
            )
        x, y, w, h = typed
        self.boxes.append((x, y, x + w, y + h))


class BulkForm(StatusForm):
    """One change for every selected report: department, status with one note, release."""

    status = SelectField(
        _l("Neuer Status"),
        choices=[SelectChoice("", _l("– unverändert –"))]
        + [SelectChoice(s.value, s.label) for s in ReportStatus],
    )
    department_id = SelectField(_l("Zuweisen an Abteilung"), coerce=int)
    release = BooleanField(_l("Beschreibung und Fotos freigeben"))
    after_photo = None  # one photo of one repaired spot: on the report page only

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.department_id.choices = [SelectChoice(0, _l("– unverändert –"))] + department_choices()


class ResponseTemplateForm(LotseForm):
    """A prepared public note for a category and status (or for all of them)."""

    title = StringField(_l("Titel"), validators=[DataRequired(), Length(max=120)])
    text = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=2000)])
    category_id = SelectField(_l("Kategorie"), coerce=int)
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("alle"))]
        + [SelectChoice(s.value, s.label) for s in ReportStatus],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.category_id.choices = [SelectChoice(0, _l("alle"))] + category_choices()
