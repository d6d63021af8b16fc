"""Booking office pages for resources (halls, parts, rooms, opening hours, photos) and closures."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from buchung.admin import (
    bp,
    managed_query,
    managed_resource_or_404,
    managed_resources,
    office_required,
    resource_label,
    resource_tree,
)
from buchung.admin_forms import (
    ClosureActionForm,
    ClosureForm,
    PhotoForm,
    ResourceForm,
    format_hours,
    parse_hours,
)
from buchung.clock import local_moment, local_today, to_local
from buchung.forms import ConfirmForm
from buchung.models import (
    ACTIVE_STATUSES,
    Booking,
    Closure,
    OpeningHours,
    Resource,
    ResourcePhoto,
)
from buchung.photos import NotAnImage, delete_photo, store_photo
from buchung.services.closures import affected_bookings, closure_period
from lotse.auth import department_scope
from lotse.extensions import db
from lotse.models import Department, utcnow


@bp.route("/raeume")
@office_required
def resource_list():
    """The office's halls, parts and rooms."""
    return render_template(
        "buchung/admin/resources.html",
        resources=resource_tree(managed_resources()),
        label=resource_label,
    )


def _resource_form(resource: Resource | None) -> ResourceForm:
    form = ResourceForm(obj=resource)
    departments = db.session.scalars(
        select(Department).where(department_scope(Department.id)).order_by(Department.name)
    ).all()
    form.department_id.choices = [SelectChoice(d.id, d.name) for d in departments]
    halls = db.session.scalars(managed_query().where(Resource.parent_id.is_(None))).all()
    form.parent_id.choices = [SelectChoice(0, _("– keine, eigenständig –"))] + [
        SelectChoice(h.id, h.name) for h in halls if resource is None or h.id != resource.id
    ]
    if resource is not None and not form.is_submitted():
        form.parent_id.data = resource.parent_id or 0
        for weekday, field in enumerate(form.hours_fields()):
            field.data = format_hours(
                [
                    (h.opens_minute, h.closes_minute)
                    for h in resource.opening_hours
                    if h.weekday == weekday
                ]
            )
    return form


def _parent_problem(resource: Resource | None, parent_id: int) -> str | None:
    if not parent_id:
        return None
    parent = managed_resource_or_404(parent_id)
    if parent.parent_id is not None:
        return _("Ein Hallenteil kann selbst keine Teile haben.")
    if resource is not None and resource.parts:
        return _("Eine Halle mit Teilen kann nicht selbst Teil einer Halle sein.")
    upcoming = select(Booking.id).where(
        Booking.resource_id == parent.id,
        Booking.status.in_(ACTIVE_STATUSES),
        Booking.ends_at > utcnow(),
    )
    if db.session.scalar(upcoming.limit(1)):
        # Their slot rows cover the old set of units; a new part would slip past them.
        return _(
            "Diese Halle hat kommende Buchungen als Ganzes; Teile können erst danach "
            "angelegt werden."
        )
    return None


@bp.route("/raeume/neu", methods=["GET", "POST"])
@bp.route("/raeume/<int:resource_id>", methods=["GET", "POST"])
@office_required
def resource_edit(resource_id: int | None = None):
    """Create or change a hall, part or room: details, rules and opening hours."""
    resource = managed_resource_or_404(resource_id) if resource_id else None
    form = _resource_form(resource)
    if form.validate_on_submit():
        problem = _parent_problem(resource, form.parent_id.data)
        if problem:
            form.parent_id.errors.append(problem)
        else:
            if resource is None:
                resource = Resource()
                db.session.add(resource)
            _save_resource(resource, form)
            db.session.commit()
            flash(_("%(name)s ist gespeichert.", name=resource.name), "success")
            return redirect(url_for("buchung_admin.resource_edit", resource_id=resource.id))
    return render_template(
        "buchung/admin/resource_edit.html",
        form=form,
        resource=resource,
        photo_form=PhotoForm(),
        delete_form=ConfirmForm(),
    )


def _save_resource(resource: Resource, form: ResourceForm) -> None:
    skip = {"parent_id", "submit", "csrf_token"}
    for field in form:
        if field.name in skip or field.name.startswith("hours_"):
            continue
        value = field.data.strip() if isinstance(field.data, str) else field.data
        setattr(resource, field.name, value)
    resource.parent = db.session.get(Resource, form.parent_id.data) if form.parent_id.data else None
    if resource.parent is not None:
        resource.department_id = resource.parent.department_id
    for part in resource.parts:
        part.department_id = resource.department_id
    resource.opening_hours = [
        OpeningHours(weekday=weekday, opens_minute=opens, closes_minute=closes)
        for weekday, field in enumerate(form.hours_fields())
        for opens, closes in parse_hours(field.data or "")
    ]


@bp.route("/raeume/<int:resource_id>/fotos", methods=["POST"])
@office_required
def photo_upload(resource_id: int):
    """Add a photo to a resource (re-encoded, without metadata)."""
    resource = managed_resource_or_404(resource_id)
    form = PhotoForm()
    if form.validate_on_submit():
        try:
            name = store_photo(form.photo.data.stream)
        except NotAnImage:
            flash(_("Die Datei ist kein lesbares Foto."), "error")
        else:
            resource.photos.append(
                ResourcePhoto(filename=name, alt_text=form.alt_text.data.strip())
            )
            db.session.commit()
            flash(_("Das Foto ist gespeichert."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for("buchung_admin.resource_edit", resource_id=resource.id))


@bp.route("/raeume/<int:resource_id>/fotos/<int:photo_id>/loeschen", methods=["POST"])
@office_required
def photo_delete(resource_id: int, photo_id: int):
    """Remove a photo of a resource."""
    resource = managed_resource_or_404(resource_id)
    photo = db.get_or_404(ResourcePhoto, photo_id)
    if photo.resource_id != resource.id or not ConfirmForm().validate_on_submit():
        abort(400)
    db.session.delete(photo)
    db.session.commit()
    delete_photo(photo.filename)
    flash(_("Das Foto ist gelöscht."), "success")
    return redirect(url_for("buchung_admin.resource_edit", resource_id=resource.id))


def visible_closures_query():
    """Closures of managed resources and those of all resources."""
    ids = select(managed_query().with_only_columns(Resource.id).subquery())
    return select(Closure).where((Closure.resource_id.is_(None)) | Closure.resource_id.in_(ids))


@bp.app_template_global()
def closure_span(closure: Closure) -> str:
    """ "Mo 22.12.2025 – Di 06.01.2026" for whole days, else with the times."""
    first, last, whole_days = closure_period(closure)
    pattern = "EEE dd.MM.yyyy" if whole_days else "EEE dd.MM.yyyy HH:mm"
    if whole_days:
        return f"{format_date(first, pattern)} – {format_date(last, pattern)}"
    return f"{format_datetime(first, pattern)} – {format_datetime(last, pattern)}"


@bp.route("/sperrzeiten")
@office_required
def closure_list():
    """Current and future closures of the office's resources and of all resources."""
    closures = db.session.scalars(
        visible_closures_query()
        .where((Closure.ends_at > utcnow()) | Closure.weekly.is_(True))
        .order_by(Closure.starts_at)
    ).all()
    return render_template("buchung/admin/closures.html", closures=closures, label=resource_label)


def _closure_or_404(closure_id: int) -> Closure:
    closure = db.session.scalar(visible_closures_query().where(Closure.id == closure_id))
    if closure is None:
        abort(404)
    if closure.resource_id is None and not current_user.is_admin:
        abort(403)  # closing every resource is for admins
    return closure


@bp.route("/sperrzeiten/neu", methods=["GET", "POST"])
@bp.route("/sperrzeiten/<int:closure_id>", methods=["GET", "POST"])
@office_required
def closure_edit(closure_id: int | None = None):
    """Create or change a closure; afterwards the bookings it hits are listed, to cancel."""

    closure = _closure_or_404(closure_id) if closure_id else None
    form = ClosureForm()
    everything = [SelectChoice(0, _("Alle Räume"))] if current_user.is_admin else []
    form.resource_id.choices = everything + [
        SelectChoice(r.id, resource_label(r)) for r in resource_tree(managed_resources())
    ]
    if closure is not None and not form.is_submitted():
        _fill_closure_form(form, closure)
    elif closure is None and not form.is_submitted():
        form.start_day.data = form.end_day.data = local_today()
    if form.validate_on_submit():
        if form.resource_id.data:
            managed_resource_or_404(form.resource_id.data)
        elif not current_user.is_admin:
            abort(403)
        if closure is None:
            closure = Closure()
            db.session.add(closure)
        closure.resource_id = form.resource_id.data or None
        closure.title = form.title.data.strip()
        start_minute = _minute(form.start_time.data, 0)
        end_minute = _minute(form.end_time.data, 1440)
        closure.starts_at = local_moment(form.start_day.data, start_minute)
        closure.ends_at = local_moment(form.end_day.data, end_minute)
        closure.weekly = form.weekly.data
        closure.repeat_until = form.repeat_until.data if form.weekly.data else None
        db.session.commit()
        flash(_("Die Sperrzeit ist gespeichert."), "success")
        return redirect(url_for("buchung_admin.closure_edit", closure_id=closure.id))
    hit = affected_bookings(closure) if closure is not None else []
    return render_template(
        "buchung/admin/closure_edit.html",
        form=form,
        closure=closure,
        hit=hit,
        delete_form=ConfirmForm(),
        action_form=ClosureActionForm(),
        label=resource_label,
    )


def _minute(value, default: int) -> int:
    return default if value is None else value.hour * 60 + value.minute


def _fill_closure_form(form: ClosureForm, closure: Closure) -> None:
    start, end = to_local(closure.starts_at), to_local(closure.ends_at)
    whole_days = start.time() == end.time() == start.time().replace(hour=0, minute=0)
    form.resource_id.data = closure.resource_id or 0
    form.title.data = closure.title
    form.start_day.data = start.date()
    form.end_day.data = (end - timedelta(days=1)).date() if whole_days else end.date()
    form.start_time.data = None if whole_days else start.time()
    form.end_time.data = None if whole_days else end.time()
    form.weekly.data = closure.weekly
    form.repeat_until.data = closure.repeat_until


@bp.route("/sperrzeiten/<int:closure_id>/loeschen", methods=["POST"])
@office_required
def closure_delete(closure_id: int):
    """Remove a closure: its time is bookable again."""
    closure = _closure_or_404(closure_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db.session.delete(closure)
    db.session.commit()
    flash(_("Die Sperrzeit ist gelöscht."), "success")
    return redirect(url_for("buchung_admin.closure_list"))
