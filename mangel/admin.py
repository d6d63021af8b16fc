"""Staff pages of the Mängelmelder: the category tree and the extra questions (admins)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from lotse.auth import admin_required
from lotse.extensions import db
from lotse.models import Department
from mangel.forms import CategoryForm, ConfirmForm, QuestionForm
from mangel.models import QUESTION_TYPE_LABELS, Category, CategoryQuestion, QuestionType

bp = Blueprint("mangel_admin", __name__, url_prefix="/verwaltung/maengel")


def _main_categories(*options: ORMOption) -> list[Category]:
    return list(
        db.session.scalars(
            select(Category)
            .where(Category.parent_id.is_(None))
            .order_by(Category.position, Category.name)
            .options(*options)
        )
    )


@bp.route("/kategorien")
@admin_required
def category_list():
    """The category tree with department, photo rule, radius and questions at a glance."""
    return render_template(
        "mangel/admin/category_list.html",
        mains=_main_categories(
            # the tree at a glance in three queries, however many leaves it has
            selectinload(Category.children).options(
                joinedload(Category.department), selectinload(Category.questions)
            )
        ),
        type_labels={k.value: v for k, v in QUESTION_TYPE_LABELS.items()},
        delete_form=ConfirmForm(),
    )


@bp.route("/kategorien/neu", methods=["GET", "POST"])
@bp.route("/kategorien/<int:category_id>", methods=["GET", "POST"])
@admin_required
def category_edit(category_id: int | None = None):
    """Create a category or change its place in the tree, department and rules."""
    category = db.get_or_404(Category, category_id) if category_id else None
    departments = db.session.scalars(select(Department).order_by(Department.name)).all()
    form = CategoryForm(
        obj=category, category=category, mains=_main_categories(), departments=departments
    )
    if category is not None and not form.is_submitted():
        form.parent_id.data = category.parent_id or 0
        form.department_id.data = category.department_id or 0
    if form.validate_on_submit():
        if category is None:
            category = Category(name="")
            db.session.add(category)
        category.name = form.name.data.strip()
        category.description = (form.description.data or "").strip()
        category.parent_id = form.parent_id.data or None
        category.department_id = form.department_id.data or None
        category.photo_required = form.photo_required.data
        category.duplicate_radius_m = form.duplicate_radius_m.data
        category.position = form.position.data
        category.active = form.active.data
        db.session.commit()
        flash(_("Die Kategorie %(name)s ist gespeichert.", name=category.name), "success")
        return redirect(url_for(".category_list"))
    return render_template("mangel/admin/category_edit.html", form=form, category=category)


@bp.route("/kategorien/<int:category_id>/fragen/neu", methods=["GET", "POST"])
@bp.route("/kategorien/<int:category_id>/fragen/<int:question_id>", methods=["GET", "POST"])
@admin_required
def question_edit(category_id: int, question_id: int | None = None):
    """Add or change an extra question that citizens answer when reporting in a category."""
    category = db.get_or_404(Category, category_id)
    question = db.get_or_404(CategoryQuestion, question_id) if question_id else None
    if question is not None and question.category_id != category.id:
        return redirect(url_for(".category_list"))
    form = QuestionForm(obj=question, category=category, question=question)
    if question is not None and not form.is_submitted():
        form.options.data = "\n".join(o["name"] for o in question.options or [])
    if form.validate_on_submit():
        if question is None:
            question = CategoryQuestion(category=category, code="", label="")
            db.session.add(question)
        question.options = form.option_list(question.options or [])
        question.label = form.label.data.strip()
        question.code = form.code.data
        question.datatype = QuestionType(form.datatype.data).value
        question.required = form.required.data
        question.position = form.position.data
        db.session.commit()
        flash(_("Die Frage ist gespeichert."), "success")
        return redirect(url_for(".category_list"))
    return render_template(
        "mangel/admin/question_edit.html", form=form, category=category, question=question
    )


@bp.route("/kategorien/<int:category_id>/fragen/<int:question_id>/loeschen", methods=["POST"])
@admin_required
def question_delete(category_id: int, question_id: int):
    """Remove an extra question; answers already given stay with their reports."""
    question = db.get_or_404(CategoryQuestion, question_id)
    if ConfirmForm().validate_on_submit() and question.category_id == category_id:
        db.session.delete(question)
        db.session.commit()
        flash(_("Die Frage ist gelöscht."), "success")
    return redirect(url_for(".category_list"))
