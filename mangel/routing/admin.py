"""Admin pages for responsibility: Zuständigkeitsgebiete, routing rules, "Wer ist zuständig?"."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from lotse.auth import admin_required
from lotse.extensions import db
from lotse.models import Department
from mangel.admin import bp
from mangel.forms import ConfirmForm
from mangel.models import Category
from mangel.routing.admin_forms import AreaEditForm, AreaUploadForm, CheckForm, RuleForm
from mangel.routing.areas import store_area, store_areas
from mangel.routing.models import Area, RoutingRule
from mangel.routing.rules import decide, target_for
from mangel.views import map_config


def _areas() -> list[Area]:
    return list(db.session.scalars(select(Area).order_by(Area.name)))


def _category_choices() -> list[tuple[int, str]]:
    categories = db.session.scalars(select(Category)).all()
    return sorted(((c.id, c.full_name) for c in categories), key=lambda c: c[1].lower())


def _rules() -> list[RoutingRule]:
    rules = db.session.scalars(
        select(RoutingRule).options(
            joinedload(RoutingRule.category).joinedload(Category.parent),
            joinedload(RoutingRule.area),
            joinedload(RoutingRule.department),
        )
    ).all()
    return sorted(
        rules,
        key=lambda r: (
            r.category.full_name.lower() if r.category else "~",
            r.area.name.lower() if r.area else "",
        ),
    )


@bp.route("/zustaendigkeit")
@admin_required
def responsibility():
    """Rules, areas and the check "Wer ist zuständig?" (category and point → department)."""
    check = CheckForm(request.args, categories=_category_choices())
    decision = target = None
    if request.args and check.validate():
        category = db.get_or_404(Category, check.category_id.data)
        decision = decide(category, check.lat.value, check.lon.value)
        target = target_for(decision.department)
    rule_counts = dict(
        db.session.execute(
            select(RoutingRule.area_id, func.count()).group_by(RoutingRule.area_id)
        ).all()
    )
    areas = _areas()
    return render_template(
        "mangel/admin/areas.html",
        rules=_rules(),
        areas=areas,
        area_shapes=[
            {"name": a.name, "geojson": a.geojson, "url": url_for(".area_edit", area_id=a.id)}
            for a in areas
        ],
        map_config=map_config(),
        rule_counts=rule_counts,
        check=check,
        decision=decision,
        target=target,
        delete_form=ConfirmForm(),
    )


@bp.route("/zustaendigkeit/gebiete/hochladen", methods=["GET", "POST"])
@admin_required
def area_upload():
    """Upload a GeoJSON file: new areas are added, areas of the same name get the new shape."""
    form = AreaUploadForm()
    if form.validate_on_submit():
        new, replaced = store_areas(form.areas)
        db.session.commit()
        flash(
            _(
                "%(count)d Gebiete übernommen: %(new)d neu, %(replaced)d ersetzt.",
                count=new + replaced,
                new=new,
                replaced=replaced,
            ),
            "success",
        )
        return redirect(url_for(".responsibility"))
    return render_template("mangel/admin/areas_upload.html", form=form), (
        422 if form.errors else 200
    )


@bp.route("/zustaendigkeit/gebiete/<int:area_id>", methods=["GET", "POST"])
@admin_required
def area_edit(area_id: int):
    """Rename an area or replace its shape from a file; its rules stay."""
    area = db.get_or_404(Area, area_id)
    taken = db.session.scalars(select(Area.name).where(Area.id != area.id)).all()
    form = AreaEditForm(obj=area, taken_names=taken)
    if form.validate_on_submit():
        area.name = form.name.data.strip()
        if form.shape is not None:
            store_area(area.name, form.shape, area)
        db.session.commit()
        flash(_("Das Gebiet %(name)s ist gespeichert.", name=area.name), "success")
        return redirect(url_for(".responsibility"))
    rules = db.session.scalars(select(RoutingRule).where(RoutingRule.area_id == area.id)).all()
    page = render_template(
        "mangel/admin/areas_edit.html", form=form, area=area, rules=rules, map_config=map_config()
    )
    return page, (422 if form.errors else 200)


@bp.post("/zustaendigkeit/gebiete/<int:area_id>/loeschen")
@admin_required
def area_delete(area_id: int):
    """Delete an area together with the rules that apply inside it."""
    area = db.get_or_404(Area, area_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    rules = db.session.execute(delete(RoutingRule).where(RoutingRule.area_id == area.id))
    db.session.delete(area)
    db.session.commit()
    flash(
        _(
            "Das Gebiet %(name)s und %(count)d Regeln darin sind gelöscht.",
            name=area.name,
            count=rules.rowcount,
        ),
        "success",
    )
    return redirect(url_for(".responsibility"))


@bp.route("/zustaendigkeit/regeln/neu", methods=["GET", "POST"])
@bp.route("/zustaendigkeit/regeln/<int:rule_id>", methods=["GET", "POST"])
@admin_required
def rule_edit(rule_id: int | None = None):
    """Create or change a rule: reports of a category and/or in an area go to a department."""
    rule = db.get_or_404(RoutingRule, rule_id) if rule_id else None
    others = select(RoutingRule.category_id, RoutingRule.area_id)
    if rule is not None:
        others = others.where(RoutingRule.id != rule.id)
    form = RuleForm(
        obj=rule,
        categories=_category_choices(),
        areas=[(a.id, a.name) for a in _areas()],
        departments=db.session.execute(
            select(Department.id, Department.name).order_by(Department.name)
        ).all(),
        taken=[tuple(row) for row in db.session.execute(others)],
    )
    if rule is not None and not form.is_submitted():
        form.category_id.data = rule.category_id or 0
        form.area_id.data = rule.area_id or 0
    if form.validate_on_submit():
        if rule is None:
            rule = RoutingRule()
            db.session.add(rule)
        rule.category_id = form.category_id.data or None
        rule.area_id = form.area_id.data or None
        rule.department_id = form.department_id.data
        db.session.commit()
        flash(_("Die Regel ist gespeichert."), "success")
        return redirect(url_for(".responsibility"))
    return render_template("mangel/admin/areas_rule.html", form=form, rule=rule), (
        422 if form.errors else 200
    )


@bp.post("/zustaendigkeit/regeln/<int:rule_id>/loeschen")
@admin_required
def rule_delete(rule_id: int):
    """Delete a rule; reports already routed keep their department."""
    rule = db.get_or_404(RoutingRule, rule_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db.session.delete(rule)
    db.session.commit()
    flash(_("Die Regel ist gelöscht."), "success")
    return redirect(url_for(".responsibility"))
