"""Bulk actions on a selection of the inbox: assign, one status with one note, release."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from lotse.auth import roles_required
from lotse.extensions import db
from lotse.inputs import db_int
from lotse.models import Department
from mangel.models import Report, ReportStatus
from mangel.workbench.actions import audit, change_status, hand_on
from mangel.workbench.forms import BulkForm
from mangel.workbench.views import bp, visible


def selected_reports(raw_ids: list[str]) -> list[Report]:
    """The selected reports; 404 if any of them is not the current clerk's to touch."""
    ids = {number for number in map(db_int, raw_ids) if number is not None}
    reports = list(db.session.scalars(visible(select(Report).where(Report.id.in_(ids)))))
    if not ids or len(reports) != len(ids):
        abort(404)
    return reports


@bp.route("/meldungen/sammelaktion", methods=["POST"])
@roles_required("clerk")
def bulk():
    """Apply the bulk form to every selected report, each change audited on its report."""
    form = BulkForm()
    next_url = request.form.get("next", "")
    back = redirect(next_url if next_url.startswith(url_for(".inbox")) else url_for(".inbox"))
    reports = selected_reports(request.form.getlist("ids"))
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return back
    department = db.session.get(Department, form.department_id.data or 0)
    for report in reports:
        if department and department.id != report.department_id:
            hand_on(report, "forward", "", department)
        if form.status.data and form.status.data != report.status:
            change_status(report, ReportStatus(form.status.data), form.public_note.data or "")
        if form.release.data and not (report.description_released and report.photos_released):
            report.description_released = report.photos_released = True
            audit(report, "description_released", "ja")
    db.session.commit()
    flash(_("%(n)d Meldungen sind geändert.", n=len(reports)), "success")
    return back
