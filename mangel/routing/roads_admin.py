"""Admin page for road authorities: the classified road layer and the road rules."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import IntegerField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional, ValidationError

from lotse.auth import admin_required
from lotse.extensions import db
from lotse.inputs import LotseForm
from lotse.models import Department
from mangel.admin import bp
from mangel.forms import ConfirmForm
from mangel.models import Category
from mangel.routing.roads import (
    MAX_RULE_DISTANCE_M,
    ROAD_CLASSES,
    Road,
    RoadFileError,
    RoadRule,
    read_roads,
)

MAX_FILE_BYTES = 20 * 1024 * 1024


class RoadUploadForm(LotseForm):
    file = FileField(
        _l("Straßennetz (GeoJSON)"),
        validators=[FileRequired(_l("Bitte wählen Sie eine Datei."))],
        description=_l(
            "Linien mit den Eigenschaften klasse (A, B, L, K, G), nummer (z. B. „K 27“), "
            "name und ortsdurchfahrt (true/false). Ersetzt das bisherige Straßennetz."
        ),
    )
    epsg = IntegerField(
        _l("Koordinatensystem (EPSG-Code)"),
        validators=[
            Optional(),
            NumberRange(
                min=1024, max=999999, message=_l("Bitte einen EPSG-Code wie 25832 angeben.")
            ),
        ],
        description=_l(
            "Leer lassen für Längen und Breiten (EPSG:4326) oder die Angabe in der Datei."
        ),
    )
    submit = SubmitField(_l("Hochladen"))

    def validate_file(self, field):
        raw = field.data.read(MAX_FILE_BYTES + 1) if field.data else b""
        if len(raw) > MAX_FILE_BYTES:
            raise ValidationError(_l("Die Datei ist größer als 20 MB."))
        try:
            self.roads = read_roads(raw, self.epsg.data)
        except RoadFileError as exc:
            raise ValidationError(str(exc)) from exc


class RoadRuleForm(LotseForm):
    road_class = SelectField(
        _l("Straßenklasse"),
        choices=[SelectChoice(key, label) for key, label in ROAD_CLASSES.items()],
    )
    ortsdurchfahrt = SelectField(
        _l("Abschnitt"),
        choices=[
            SelectChoice("", _l("innerhalb und außerhalb der Ortsdurchfahrt")),
            SelectChoice("nein", _l("nur außerhalb der Ortsdurchfahrt")),
            SelectChoice("ja", _l("nur innerhalb der Ortsdurchfahrt")),
        ],
    )
    category_id = SelectField(
        _l("Kategorie"),
        coerce=int,
        description=_l("Eine Hauptkategorie gilt für alle ihre Unterkategorien."),
    )
    distance_m = IntegerField(
        _l("Abstand zur Straße (Meter)"),
        default=15,
        validators=[
            NumberRange(
                min=1,
                max=MAX_RULE_DISTANCE_M,
                message=_l("Bitte 1 bis %(max)d Meter angeben.", max=MAX_RULE_DISTANCE_M),
            )
        ],
    )
    department_id = SelectField(_l("Zuständig"), coerce=int)
    submit = SubmitField(_l("Regel anlegen"))

    def validate_department_id(self, field):
        if not field.data:
            raise ValidationError(_l("Bitte wählen Sie, wer zuständig ist."))


def _rule_form(formdata=None) -> RoadRuleForm:
    form = RoadRuleForm(formdata) if formdata is not None else RoadRuleForm()
    categories = sorted(db.session.scalars(select(Category)), key=lambda c: c.full_name.lower())
    departments = db.session.scalars(select(Department).order_by(Department.name))
    form.category_id.choices = [SelectChoice(0, _("– alle Kategorien –"))] + [
        SelectChoice(c.id, c.full_name) for c in categories
    ]
    form.department_id.choices = [SelectChoice(0, _("– bitte wählen –"))] + [
        SelectChoice(d.id, d.name) for d in departments
    ]
    return form


def _page(upload: RoadUploadForm, rule_form: RoadRuleForm, status: int = 200):
    counts = db.session.execute(
        select(Road.road_class, Road.ortsdurchfahrt, func.count()).group_by(
            Road.road_class, Road.ortsdurchfahrt
        )
    ).all()
    rules = db.session.scalars(
        select(RoadRule)
        .order_by(RoadRule.road_class, RoadRule.id)
        .options(
            joinedload(RoadRule.category).joinedload(Category.parent),
            joinedload(RoadRule.department),
        )
    ).all()
    return render_template(
        "mangel/admin/roads.html",
        counts=counts,
        rules=rules,
        upload=upload,
        rule_form=rule_form,
        delete_form=ConfirmForm(),
        classes=ROAD_CLASSES,
    ), status


@bp.route("/zustaendigkeit/strassen")
@admin_required
def roads():
    return _page(RoadUploadForm(), _rule_form())


@bp.route("/zustaendigkeit/strassen/hochladen", methods=["POST"])
@admin_required
def road_upload():
    upload = RoadUploadForm()
    if not upload.validate_on_submit():
        return _page(upload, _rule_form(), 422)
    db.session.execute(db.delete(Road))
    db.session.add_all(Road(**values) for values in upload.roads)
    db.session.commit()
    flash(_("%(count)d Straßenabschnitte übernommen.", count=len(upload.roads)), "success")
    return redirect(url_for(".roads"))


@bp.route("/zustaendigkeit/strassen/regeln", methods=["POST"])
@admin_required
def road_rule_add():
    form = _rule_form()
    if not form.validate_on_submit():
        return _page(RoadUploadForm(), form, 422)
    db.session.add(
        RoadRule(
            road_class=form.road_class.data,
            ortsdurchfahrt={"ja": True, "nein": False}.get(form.ortsdurchfahrt.data),
            category_id=form.category_id.data or None,
            distance_m=form.distance_m.data,
            department_id=form.department_id.data,
        )
    )
    db.session.commit()
    flash(_("Die Regel ist angelegt."), "success")
    return redirect(url_for(".roads"))


@bp.route("/zustaendigkeit/strassen/regeln/<int:rule_id>/loeschen", methods=["POST"])
@admin_required
def road_rule_delete(rule_id: int):
    form = ConfirmForm()
    if form.validate_on_submit():
        db.session.delete(db.get_or_404(RoadRule, rule_id))
        db.session.commit()
        flash(_("Die Regel ist gelöscht."), "success")
    return redirect(url_for(".roads"))
