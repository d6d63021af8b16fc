"""Forms of the responsibility admin: area upload, area edit, routing rule, the check."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from lotse.inputs import LotseForm
from mangel.routing.areas import AreaFileError, read_areas, read_shape
from mangel.routing.crs import UnknownCrs, parse_epsg, to_wgs84

FILE_HINT = _l(
    "GeoJSON mit Flächen (Polygon oder MultiPolygon), in jedem Koordinatensystem mit EPSG-Code."
)
EPSG_HINT = _l(
    "Leer lassen, wenn die Datei WGS 84 ist oder ihr Koordinatensystem selbst nennt. "
    "Kommunale GIS exportieren meist 25832 (ETRS89 / UTM Zone 32N)."
)


def epsg_field() -> StringField:
    return StringField(
        _l("Koordinatensystem (EPSG-Code, freiwillig)"),
        validators=[Length(max=20)],
        description=EPSG_HINT,
        render_kw={"inputmode": "numeric", "autocomplete": "off", "list": "epsg-codes"},
    )


def _epsg(field) -> int | None:
    """The code typed in the field, checked against pyproj's database."""
    try:
        epsg = parse_epsg(field.data or "")
        to_wgs84(epsg)
    except UnknownCrs as exc:
        raise ValidationError(str(exc)) from exc
    return epsg


class AreaUploadForm(LotseForm):
    """A GeoJSON file: one area per feature, named by a property; same name replaces."""

    file = FileField(
        _l("GeoJSON-Datei"),
        validators=[FileRequired(_l("Bitte wählen Sie eine GeoJSON-Datei aus."))],
        description=FILE_HINT,
    )
    name_property = StringField(
        _l("Eigenschaft mit dem Namen"),
        default="name",
        validators=[DataRequired(_l("Bitte geben Sie die Eigenschaft an.")), Length(max=50)],
        description=_l("Ein Gebiet, das es unter diesem Namen schon gibt, wird ersetzt."),
    )
    epsg = epsg_field()
    submit = SubmitField(_l("Gebiete hochladen"))

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.areas = []  # (name, polygon) pairs, read while validating the file

    def validate_epsg(self, field):
        _epsg(field)

    def validate_file(self, field):
        if self.name_property.errors or not self.name_property.data:
            return
        try:
            epsg = _epsg(self.epsg)
        except ValidationError:
            return  # the field of the code says what is wrong
        try:
            self.areas = read_areas(field.data.read(), self.name_property.data.strip(), epsg)
        except AreaFileError as exc:
            raise ValidationError(str(exc)) from exc


class AreaEditForm(LotseForm):
    """Rename an area, or replace its shape with the polygons of a new file."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Bitte geben Sie einen Namen ein.")), Length(max=120)],
    )
    file = FileField(
        _l("Neue Form (GeoJSON-Datei, freiwillig)"),
        description=_l("Alle Flächen der Datei zusammen werden die neue Form des Gebiets."),
    )
    epsg = epsg_field()
    submit = SubmitField(_l("Speichern"))

    def __init__(self, *args, taken_names=(), **kw):
        super().__init__(*args, **kw)
        self._taken = set(taken_names)
        self.shape = None  # the new shape, read while validating the file

    def validate_name(self, field):
        if field.data.strip() in self._taken:
            raise ValidationError(_l("Ein anderes Gebiet heißt schon so."))

    def validate_epsg(self, field):
        _epsg(field)

    def validate_file(self, field):
        if not field.data:
            return
        try:
            epsg = _epsg(self.epsg)
        except ValidationError:
            return  # the field of the code says what is wrong
        try:
            self.shape = read_shape(field.data.read(), epsg)
        except AreaFileError as exc:
            raise ValidationError(str(exc)) from exc


def _choices(empty_label, items) -> list[SelectChoice]:
    return [SelectChoice(0, empty_label)] + [SelectChoice(i, label) for i, label in items]


class RuleForm(LotseForm):
    """Reports of a category and/or in an area go to a department."""

    category_id = SelectField(
        _l("Kategorie"),
        coerce=int,
        description=_l("Eine Hauptkategorie gilt für alle ihre Unterkategorien."),
    )
    area_id = SelectField(_l("Gebiet"), coerce=int)
    department_id = SelectField(_l("Zuständiger Fachbereich"), coerce=int)
    submit = SubmitField(_l("Speichern"))

    def __init__(self, *args, categories=(), areas=(), departments=(), taken=(), **kw):
        super().__init__(*args, **kw)
        self.category_id.choices = _choices(_l("– alle Kategorien –"), categories)
        self.area_id.choices = _choices(_l("– überall –"), areas)
        self.department_id.choices = _choices(_l("– bitte wählen –"), departments)
        self._taken = set(taken)

    def validate_department_id(self, field):
        if not field.data:
            raise ValidationError(_l("Bitte wählen Sie den zuständigen Fachbereich."))

    def validate_area_id(self, field):
        if not field.data and not self.category_id.data:
            raise ValidationError(_l("Bitte wählen Sie eine Kategorie, ein Gebiet oder beides."))
        if (self.category_id.data or None, field.data or None) in self._taken:
            raise ValidationError(
                _l("Für diese Kategorie und dieses Gebiet gibt es schon eine Regel.")
            )


def _coordinate(field, low: float, high: float, message) -> None:
    try:
        value = float((field.data or "").strip().replace(",", "."))
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ValidationError(message)
    field.value = value


class CheckForm(LotseForm):
    """Wer ist zuständig? A category and a point; nothing is stored, so no CSRF token."""

    class Meta:
        csrf = False

    category_id = SelectField(_l("Kategorie"), coerce=int)
    lat = StringField(
        _l("Breitengrad"),
        validators=[DataRequired(_l("Bitte geben Sie den Breitengrad ein."))],
        description=_l("zum Beispiel 50,7489"),
    )
    lon = StringField(
        _l("Längengrad"),
        validators=[DataRequired(_l("Bitte geben Sie den Längengrad ein."))],
        description=_l("zum Beispiel 6,4935"),
    )
    submit = SubmitField(_l("Zuständigkeit prüfen"))

    def __init__(self, *args, categories=(), **kw):
        super().__init__(*args, **kw)
        self.category_id.choices = _choices(_l("– bitte wählen –"), categories)

    def validate_category_id(self, field):
        if not field.data:
            raise ValidationError(_l("Bitte wählen Sie eine Kategorie."))

    def validate_lat(self, field):
        _coordinate(
            field, -90, 90, _l("Bitte geben Sie einen Breitengrad zwischen -90 und 90 ein.")
        )

    def validate_lon(self, field):
        _coordinate(
            field, -180, 180, _l("Bitte geben Sie einen Längengrad zwischen -180 und 180 ein.")
        )
