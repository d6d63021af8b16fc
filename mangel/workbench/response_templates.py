"""Response templates: prepared public notes per category and status (admins keep them)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lotse.auth import admin_required
from lotse.extensions import db
from mangel.forms import ConfirmForm
from mangel.models import Category
from mangel.workbench.forms import ResponseTemplateForm
from mangel.workbench.models import ResponseTemplate
from mangel.workbench.views import bp


@bp.route("/textbausteine", methods=["GET", "POST"])
@admin_required
def response_templates():
    """List the templates and add a new one."""
    form = ResponseTemplateForm()
    if form.validate_on_submit():
        db.session.add(
            ResponseTemplate(
                title=form.title.data.strip(),
                text=form.text.data.strip(),
                category_id=form.category_id.data or None,
                status=form.status.data or None,
            )
        )
        db.session.commit()
        flash(_("Der Textbaustein ist gespeichert."), "success")
        return redirect(url_for(".response_templates"))
    return render_template(
        "mangel/workbench/response_templates.html",
        form=form,
        delete_form=ConfirmForm(),
        templates=db.session.scalars(
            select(ResponseTemplate)
            .order_by(ResponseTemplate.title)
            .options(joinedload(ResponseTemplate.category).joinedload(Category.parent))
        ).all(),
    )


@bp.route("/textbausteine/<int:template_id>/loeschen", methods=["POST"])
@admin_required
def response_template_delete(template_id: int):
    """Remove a template; notes already written with it stay."""
    template = db.get_or_404(ResponseTemplate, template_id)
    if ConfirmForm().validate_on_submit():
        db.session.delete(template)
        db.session.commit()
        flash(_("Der Textbaustein ist gelöscht."), "success")
    return redirect(url_for(".response_templates"))
