"""What staff do to a report: every action is a POST, writes an ``AuditEntry`` and
emits the signals other parts listen to (re-routing, status mail) before the commit."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select, update

from lotse.auth import roles_required
from lotse.extensions import db
from lotse.models import Department, utcnow
from mangel import services
from mangel.models import Category, Report, ReportPhoto, ReportStatus, StatusChange
from mangel.photos import PhotoError, redact
from mangel.places import nearest_address
from mangel.signals import report_rerouted, report_status_changed
from mangel.workbench.after_photos import add_after_photo
from mangel.workbench.forms import (
    ActionForm,
    CategoryForm,
    ForwardForm,
    LocationForm,
    ModerationForm,
    NoteForm,
    PlanForm,
    RedactForm,
    StatusForm,
)
from mangel.workbench.models import AuditEntry, InternalNote
from mangel.workbench.views import bp, render_report, report_or_404


def audit(report: Report, action: str, detail: str = "") -> None:
    """Record a staff action on a report."""
    db.session.add(
        AuditEntry(report_id=report.id, staff_user_id=current_user.id, action=action, detail=detail)
    )


def change_status(report: Report, status: ReportStatus, note: str) -> StatusChange:
    """Set a public status with its note, log it and tell the listeners (reporter mail)."""
    old = report.status_enum
    change = StatusChange(
        status=status.value, public_note=note.strip(), staff_user_id=current_user.id
    )
    report.history.append(change)
    report.status = status.value
    if status is not ReportStatus.DUPLICATE and report.duplicate_of_id is not None:
        report.duplicate_of_id = None  # reopened: its people follow this report again
    if status is not ReportStatus.OPEN and report.accepted_at is None:
        report.accepted_at, report.accepted_by_id = utcnow(), current_user.id
    audit(report, "status", f"{old.label} → {status.label}")
    db.session.flush()
    report_status_changed.send(report, change=change)
    return change


def hand_on(report: Report, reason: str, detail: str, department: Department | None = None) -> bool:
    """Apply a forward or a corrected place or category; True if another department has it now.

    Routing decides (``mangel.routing.rules``): a forward names the department, after a
    correction the rules choose again.  Only a new department gets the report and the
    reporter a mail; a correction that keeps the department is a history entry only.
    """
    before = report.department
    db.session.flush()
    report_rerouted.send(
        report, reason=reason, staff_user=current_user._get_current_object(), department=department
    )
    if report.department_id == (before.id if before else None):
        audit(report, f"{reason}_corrected", detail)
        return False
    names = (d.name if d else "–" for d in (before, report.department))
    audit(report, reason, " ".join(filter(None, [detail, "({} → {})".format(*names)])))
    return True


def _handed_on(report: Report):
    """After a report went to another department: to the inbox, which the clerk may see."""
    name = report.department.name if report.department else _("die zentrale Eingangsstelle")
    db.session.commit()
    flash(_("Die Meldung ist an %(name)s weitergeleitet.", name=name), "success")
    return redirect(url_for(".inbox"))


def _done(report: Report, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".report_view", report_id=report.id))


@bp.route("/meldungen/<int:report_id>/annehmen", methods=["POST"])
@roles_required("clerk")
def accept(report_id: int):
    """Take responsibility for the report."""
    report = report_or_404(report_id)
    if ActionForm().validate_on_submit() and report.accepted_at is None:
        report.accepted_at, report.accepted_by_id = utcnow(), current_user.id
        audit(report, "accept", current_user.display_name)
        return _done(report, _("Sie haben die Meldung angenommen."))
    return redirect(url_for(".report_view", report_id=report.id))


@bp.route("/meldungen/<int:report_id>/status", methods=["POST"])
@roles_required("clerk")
def status(report_id: int):
    """Change the public status; nicht lösbar, nicht zuständig and Duplikat need a note."""
    report = report_or_404(report_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return render_report(report, status_form=form), 422
    change = change_status(report, ReportStatus(form.status.data), form.public_note.data or "")
    if not form.after_photo.data:
        return _done(report, _("Der Status ist geändert."))
    try:
        written = add_after_photo(report, change, form.after_photo.data)
    except PhotoError as exc:
        db.session.rollback()
        form.after_photo.errors.append(str(exc))
        return render_report(report_or_404(report_id), status_form=form), 422
    audit(report, "after_photo")
    services.commit_with_photos(written)
    flash(_("Der Status ist geändert; das Foto danach ist veröffentlicht."), "success")
    return redirect(url_for(".report_view", report_id=report.id))


@bp.route("/meldungen/<int:report_id>/notiz", methods=["POST"])
@roles_required("clerk")
def note(report_id: int):
    """Add an internal note, visible to staff only."""
    report = report_or_404(report_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return render_report(report, note_form=form), 422
    db.session.add(
        InternalNote(report_id=report.id, staff_user_id=current_user.id, text=form.text.data)
    )
    audit(report, "note")
    return _done(report, _("Die interne Notiz ist gespeichert."))


@bp.route("/meldungen/<int:report_id>/weiterleiten", methods=["POST"])
@roles_required("clerk")
def forward(report_id: int):
    """Hand the report to another department, which gets it by mail; back to the inbox."""
    report = report_or_404(report_id)
    form = ForwardForm()
    department = db.session.get(Department, form.department_id.data or 0)
    if not (form.validate_on_submit() and department) or department.id == report.department_id:
        return redirect(url_for(".report_view", report_id=report.id))
    hand_on(report, "forward", "", department)
    return _handed_on(report)


@bp.route("/meldungen/<int:report_id>/kategorie", methods=["POST"])
@roles_required("clerk")
def recategorise(report_id: int):
    """Correct the category; the report goes on only if that changes who is responsible."""
    report = report_or_404(report_id)
    form = CategoryForm()
    category = db.session.get(Category, form.category_id.data or 0)
    valid = form.validate_on_submit() and category and category.parent_id
    if not valid or category.id == report.category_id:
        return redirect(url_for(".report_view", report_id=report.id))
    old = report.category.full_name
    report.category = category
    if hand_on(report, "recategorise", f"{old} → {category.full_name}"):
        return _handed_on(report)
    return _done(report, _("Kategorie korrigiert; die Meldung bleibt bei ihrer Abteilung."))


@bp.route("/meldungen/<int:report_id>/ort", methods=["POST"])
@roles_required("clerk")
def move(report_id: int):
    """Correct the place; the nearest address follows, and the report goes on only if that
    changes who is responsible."""
    report = report_or_404(report_id)
    form = LocationForm()
    if not form.validate_on_submit():
        return render_report(report, location_form=form), 422
    old = f"{report.lat:.5f}, {report.lon:.5f}"
    report.lat, report.lon = form.lat.data, form.lon.data
    place = nearest_address(report.lat, report.lon)
    report.street = place.street if place else ""
    report.nearest_address = place.label if place else ""
    if hand_on(report, "move", f"{old} → {report.lat:.5f}, {report.lon:.5f}"):
        return _handed_on(report)
    return _done(report, _("Ort korrigiert; die Meldung bleibt bei ihrer Abteilung."))


@bp.route("/meldungen/<int:report_id>/duplikat/<int:original_id>", methods=["POST"])
@roles_required("clerk")
def mark_duplicate(report_id: int, original_id: int):
    """Close the report as a duplicate of a nearby one, pointing the public to it."""
    report = report_or_404(report_id)
    original = db.session.get(Report, original_id)
    while original is not None and original.duplicate_of is not None:
        original = original.duplicate_of  # follow the chain to the report still worked on
    if (
        not ActionForm().validate_on_submit()
        or original is None
        or original.id == report.id
        or not original.is_public
    ):
        return redirect(url_for(".report_view", report_id=report.id))
    # Whoever followed this report follows the original now.
    db.session.execute(
        update(Report)
        .where(Report.duplicate_of_id == report.id)
        .values(duplicate_of_id=original.id)
        .execution_options(synchronize_session=False)
    )
    report.duplicate_of_id = original.id
    audit(report, "duplicate", _("Nr. %(id)d", id=original.id))
    note = _("Diese Meldung ist ein Duplikat von Meldung %(id)d.", id=original.id)
    change_status(report, ReportStatus.DUPLICATE, note)
    return _done(report, note)


@bp.route("/meldungen/<int:report_id>/planung", methods=["POST"])
@roles_required("clerk")
def plan(report_id: int):
    """Set priority and the expected completion date."""
    report = report_or_404(report_id)
    form = PlanForm()
    if form.validate_on_submit():
        detail = f"{report.priority}/{report.due_date or '–'} → {form.priority.data}/{form.due_date.data or '–'}"
        report.priority, report.due_date = form.priority.data, form.due_date.data
        audit(report, "plan", detail)
        return _done(report, _("Priorität und Termin sind gespeichert."))
    return render_report(report, plan_form=form), 422


@bp.route("/meldungen/<int:report_id>/freigabe", methods=["POST"])
@roles_required("clerk")
def moderate(report_id: int):
    """Release or hold text and photos, edit the public text, hide the whole report."""
    report = report_or_404(report_id)
    form = ModerationForm()
    if not form.validate_on_submit():
        return render_report(report, moderation_form=form), 422
    text = (form.description.data or "").strip()
    if text != report.description:
        if report.original_description is None:
            report.original_description = report.description
        audit(report, "edit_text", report.description)
        report.description = text
    for flag in ("description_released", "photos_released", "hidden"):
        new = getattr(form, flag).data
        if new != getattr(report, flag):
            setattr(report, flag, new)
            audit(report, flag, "ja" if new else "nein")
    return _done(report, _("Die Freigabe ist gespeichert."))


def _photo_or_404(report: Report, photo_id: int) -> ReportPhoto:
    photo = db.session.scalar(
        select(ReportPhoto).where(ReportPhoto.id == photo_id, ReportPhoto.report_id == report.id)
    )
    if photo is None:
        abort(404)
    return photo


@bp.route("/meldungen/<int:report_id>/fotos/<int:photo_id>/zurueckhalten", methods=["POST"])
@roles_required("clerk")
def hold_photo(report_id: int, photo_id: int):
    """Hold one photo back from the public, or release it again."""
    report = report_or_404(report_id)
    photo = _photo_or_404(report, photo_id)
    if ActionForm().validate_on_submit():
        photo.held = not photo.held
        audit(report, "photo_held", f"{photo.position + 1}: {'ja' if photo.held else 'nein'}")
        return _done(report, _("Die Freigabe des Fotos ist gespeichert."))
    return redirect(url_for(".report_view", report_id=report.id))


@bp.route("/meldungen/<int:report_id>/fotos/<int:photo_id>/schwaerzen", methods=["POST"])
@roles_required("clerk")
def redact_photo(report_id: int, photo_id: int):
    """Black out rectangles drawn (or typed) on a photo: the photo is re-encoded under a new
    name, the public sees only the redacted one, and the unredacted file is deleted."""
    report = report_or_404(report_id)
    photo = _photo_or_404(report, photo_id)
    form = RedactForm()
    if not form.validate_on_submit():
        return render_report(report, redact_form=form, redact_photo_id=photo.id), 422
    try:
        photo.file_name, photo.thumb_name = redact(
            services.upload_dir(), photo.file_name, form.boxes
        )
    except ValueError:
        form.rects.errors.append(_("Ein Rechteck liegt außerhalb des Fotos."))
        return render_report(report, redact_form=form, redact_photo_id=photo.id), 422
    boxes = ", ".join(
        f"{left},{top} {right - left}×{bottom - top}" for left, top, right, bottom in form.boxes
    )
    audit(report, "redact", f"{photo.position + 1}: {boxes}")
    return _done(
        report,
        ngettext(
            "Der Bereich ist geschwärzt.", "%(num)d Bereiche sind geschwärzt.", len(form.boxes)
        ),
    )
