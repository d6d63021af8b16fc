"""Admin pages for staff accounts and departments."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, ValidationError

from lotse.auth import admin_required, end_sessions
from lotse.extensions import db
from lotse.inputs import LotseForm
from lotse.models import Department, Role, User, email_lookup
from lotse.passwords import not_common

bp = Blueprint("admin", __name__, url_prefix="/verwaltung/admin")

ROLE_LABELS = {
    Role.ADMIN.value: _l("Administration"),
    Role.CLERK.value: _l("Sachbearbeitung Mängel"),
    Role.BOOKING_OFFICE.value: _l("Buchungsbüro"),
    Role.CARETAKER.value: _l("Hausmeisterei"),
}


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class StaffForm(LotseForm):
    display_name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Bitte geben Sie einen Namen ein.")), Length(max=120)],
    )
    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[
            DataRequired(_l("Bitte geben Sie eine E-Mail-Adresse ein.")),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein.")),
            Length(max=254),
        ],
    )
    password = PasswordField(
        _l("Neues Passwort"),
        validators=[Length(max=200)],
        description=_l("Mindestens 12 Zeichen. Leer lassen, um das Passwort nicht zu ändern."),
        render_kw={"autocomplete": "new-password"},
    )
    roles = CheckboxList(
        _l("Rollen"), choices=[SelectChoice(value, label) for value, label in ROLE_LABELS.items()]
    )
    departments = CheckboxList(_l("Fachbereiche"), coerce=int)
    active = BooleanField(_l("Konto aktiv"), default=True)
    submit = SubmitField(_l("Speichern"))

    def __init__(self, *args, user: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._user = user
        if user is None:
            self.password.label.text = _l("Passwort")
            self.password.description = _l("Mindestens 12 Zeichen.")
        self.departments.choices = [
            SelectChoice(d.id, d.name)
            for d in db.session.scalars(select(Department).order_by(Department.name))
        ]

    def validate_email(self, field):
        other = db.session.scalar(select(User).where(email_lookup(User.email, field.data)))
        if other is not None and other is not self._user:
            raise ValidationError(_l("Diese E-Mail-Adresse ist schon vergeben."))

    def validate_password(self, field):
        # No Optional() here: it would end the chain before the check for new accounts.
        if not field.data:
            if self._user is None:
                raise ValidationError(_l("Bitte vergeben Sie ein Passwort."))
        elif len(field.data) < 12:
            raise ValidationError(_l("Das Passwort muss mindestens 12 Zeichen lang sein."))
        else:
            not_common(self, field)


class DepartmentForm(LotseForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Bitte geben Sie einen Namen ein.")), Length(max=120)],
    )
    email = EmailField(
        _l("E-Mail-Postfach"),
        validators=[
            DataRequired(_l("Bitte geben Sie eine E-Mail-Adresse ein.")),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein.")),
            Length(max=254),
        ],
    )
    is_external = BooleanField(_l("Externe Stelle (andere Behörde, Auftragnehmer)"))
    active = BooleanField(_l("Aktiv"), default=True)
    submit = SubmitField(_l("Speichern"))

    def __init__(self, *args, department: Department | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._department = department

    def validate_name(self, field):
        other = db.session.scalar(select(Department).where(Department.name == field.data.strip()))
        if other is not None and other is not self._department:
            raise ValidationError(_l("Einen Fachbereich mit diesem Namen gibt es schon."))


@bp.route("/personal")
@admin_required
def staff_list():
    """All staff accounts with their roles and departments."""
    users = db.session.scalars(select(User).order_by(User.display_name)).all()
    return render_template("admin/staff_list.html", users=users, role_labels=ROLE_LABELS)


@bp.route("/personal/neu", methods=["GET", "POST"])
@bp.route("/personal/<int:user_id>", methods=["GET", "POST"])
@admin_required
def staff_edit(user_id: int | None = None):
    """Create a staff account or change its roles, departments, password and status."""
    user = db.get_or_404(User, user_id) if user_id else None
    form = StaffForm(obj=user, user=user)
    if user is not None and not form.is_submitted():
        form.roles.data = sorted(user.roles)
        form.departments.data = sorted(user.department_ids())
    if form.validate_on_submit():
        if user is None:
            user = User(email="", display_name="", password_hash="")
            db.session.add(user)
        if user is current_user and Role.ADMIN.value not in form.roles.data:
            form.roles.errors.append(
                _("Sie können sich die Administration nicht selbst entziehen.")
            )
        else:
            was_active = user.active is not False
            user.display_name = form.display_name.data.strip()
            user.email = form.email.data.strip().lower()
            user.active = form.active.data or user is current_user
            user.roles = form.roles.data
            user.departments = [db.session.get(Department, i) for i in form.departments.data]
            if form.password.data:
                user.set_password(form.password.data)
            if user.id is not None and (form.password.data or (was_active and not user.active)):
                end_sessions(user)
            db.session.commit()
            flash(_("Das Konto von %(name)s ist gespeichert.", name=user.display_name), "success")
            return redirect(url_for("admin.staff_list"))
        db.session.rollback()
    return render_template("admin/staff_edit.html", form=form, user=user)


@bp.route("/fachbereiche")
@admin_required
def department_list():
    """All departments and their inboxes."""
    departments = db.session.scalars(select(Department).order_by(Department.name)).all()
    return render_template("admin/department_list.html", departments=departments)


@bp.route("/fachbereiche/neu", methods=["GET", "POST"])
@bp.route("/fachbereiche/<int:department_id>", methods=["GET", "POST"])
@admin_required
def department_edit(department_id: int | None = None):
    """Create a department or change its name, inbox and status."""
    department = db.get_or_404(Department, department_id) if department_id else None
    form = DepartmentForm(obj=department, department=department)
    if form.validate_on_submit():
        if department is None:
            department = Department(name="", email="")
            db.session.add(department)
        department.name = form.name.data.strip()
        department.email = form.email.data.strip().lower()
        department.is_external = form.is_external.data
        department.active = form.active.data
        db.session.commit()
        flash(_("Der Fachbereich %(name)s ist gespeichert.", name=department.name), "success")
        return redirect(url_for("admin.department_list"))
    return render_template("admin/department_edit.html", form=form, department=department)
