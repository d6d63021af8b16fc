"""Booking office: import closures (school holidays) from an .ics file — upload, choose the
resources, preview what is created or updated, apply; then act on the bookings hit."""

from __future__ import annotations

import base64
import binascii

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileAllowed, FileField
from wtforms import HiddenField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from buchung.admin import (
    bp,
    managed_resources,
    office_required,
    resource_label,
)
from buchung.admin_decisions import chosen_bookings
from buchung.admin_resources import visible_closures_query
from buchung.jobs import enqueue_notices
from buchung.models import Closure
from buchung.services.closures import affected_bookings_of, apply_import, plan_import
from buchung.services.decisions import cancel_for_closures
from buchung.services.waitlist import offer_freed
from lotse.extensions import db
from lotse.inputs import LotseForm, db_int

MAX_ICS_BYTES = 2_000_000


class ClosureImportForm(LotseForm):
    file = FileField(
        _l("Kalenderdatei (.ics)"),
        validators=[FileAllowed(["ics"], _l("Bitte eine iCalendar-Datei (.ics)."))],
        description=_l("Zum Beispiel die Schulferien des Landes."),
    )
    resource_ids = SelectMultipleField(
        _l("Für diese Räume"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description=_l("Eine Halle sperrt ihre Teile mit."),
    )
    data = HiddenField()


class ImpactForm(LotseForm):
    reason = TextAreaField(_l("Begründung für die Buchenden"), validators=[Length(max=2000)])
    closure_ids = HiddenField()


def _file_data(form: ClosureImportForm) -> bytes | None:
    """The uploaded file, or the one carried from the preview in the hidden field."""
    if form.file.data:
        data = form.file.data.read(MAX_ICS_BYTES + 1)
        if len(data) > MAX_ICS_BYTES:
            form.file.errors.append(_("Die Datei ist zu groß (höchstens 2 MB)."))
            return None
        return data
    if form.data.data:
        try:
            return base64.b64decode(form.data.data.encode(), validate=True)
        except (binascii.Error, ValueError):
            abort(400)
    form.file.errors.append(_("Bitte wählen Sie eine Kalenderdatei aus."))
    return None


@bp.route("/sperrzeiten/import", methods=["GET", "POST"])
@office_required
def closure_import():
    """Upload an .ics file, choose resources, preview, then apply."""
    form = ClosureImportForm()
    halls = [r for r in managed_resources() if r.parent_id is None]
    form.resource_ids.choices = [SelectChoice(r.id, resource_label(r)) for r in halls]
    planned = None
    status = 200
    if form.validate_on_submit():
        if not form.resource_ids.data:
            form.resource_ids.errors.append(_("Bitte wählen Sie mindestens einen Raum."))
        data = _file_data(form)
        if data is not None and form.resource_ids.data:
            chosen = [r for r in halls if r.id in set(form.resource_ids.data)]
            try:
                planned = plan_import(data, chosen)
            except ValueError:
                form.file.errors.append(_("Das ist keine lesbare iCalendar-Datei."))
            else:
                if request.form.get("apply") and planned:
                    closures = apply_import(planned)
                    db.session.commit()
                    flash(
                        _("%(count)s Sperrzeiten sind übernommen.", count=len(closures)),
                        "success",
                    )
                    ids = ",".join(str(c.id) for c in closures)
                    return redirect(url_for("buchung_admin.closure_impact", ids=ids))
                form.data.data = base64.b64encode(data).decode()
                if not planned:
                    form.file.errors.append(_("Die Datei enthält keine Termine."))
        if form.errors or any(f.errors for f in form):
            status = 400
    elif form.is_submitted():
        status = 400
    return render_template(
        "buchung/admin/closure_import.html", form=form, planned=planned, label=resource_label
    ), status


def _closures_from(ids: str) -> list[Closure]:
    parts = [part.strip() for part in ids.split(",") if part.strip()]
    wanted = {db_int(part) for part in parts}
    if None in wanted:
        abort(400)
    found = list(db.session.scalars(visible_closures_query().where(Closure.id.in_(wanted))))
    if not found:
        abort(404)
    return found


@bp.route("/sperrzeiten/wirkung", methods=["GET", "POST"])
@office_required
def closure_impact():
    """The bookings a set of closures hits, by whom; cancel the chosen ones with one reason."""
    closures = _closures_from(request.values.get("ids", ""))
    form = ImpactForm()
    hit = {}
    for closure, bookings in zip(closures, affected_bookings_of(closures), strict=True):
        for booking in bookings:
            hit.setdefault(booking.id, (booking, closure))
    if form.validate_on_submit():
        reason = (form.reason.data or "").strip()
        chosen = [hit[b.id] for b in chosen_bookings() if b.id in hit]
        if not reason or not chosen:
            flash(_("Bitte wählen Sie die Buchungen und geben Sie eine Begründung an."), "error")
        else:
            count = cancel_for_closures(chosen, reason, current_user)
            offer_freed()
            db.session.commit()
            enqueue_notices()
            flash(
                _(
                    "%(count)s Buchungen sind storniert; die Buchenden sind benachrichtigt.",
                    count=count,
                ),
                "success",
            )
        return redirect(url_for("buchung_admin.closure_impact", ids=request.values["ids"]))
    return render_template(
        "buchung/admin/closure_impact.html",
        closures=closures,
        hit=sorted(hit.values(), key=lambda pair: pair[0].starts_at),
        form=form,
        ids=request.values.get("ids", ""),
        label=resource_label,
    )
