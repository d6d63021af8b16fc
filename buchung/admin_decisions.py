"""Booking office: decide many requests at once (a whole series or a selection), and act on
the bookings a closure hits (cancel them with one reason and notify, or keep them)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from buchung.admin import (
    bp,
    managed_resource_or_404,
    managed_resources,
    office_required,
    resource_label,
)
from buchung.admin_forms import ClosureActionForm, DecisionForm
from buchung.admin_resources import _closure_or_404
from buchung.club_models import WaitlistEntry
from buchung.jobs import enqueue_notices
from buchung.models import Booking
from buchung.services.closures import affected_bookings
from buchung.services.decisions import cancel_for_closures, decide
from buchung.services.waitlist import offer_freed
from lotse.extensions import db
from lotse.models import utcnow


def chosen_bookings() -> list[Booking]:
    """The bookings ticked in the form (``booking_ids``), each of a managed resource."""
    try:
        ids = {int(value) for value in request.form.getlist("booking_ids")}
    except ValueError:
        abort(400)
    bookings = list(db.session.scalars(select(Booking).where(Booking.id.in_(ids)))) if ids else []
    for booking in bookings:
        managed_resource_or_404(booking.resource_id)
    return bookings


@bp.route("/anfragen", methods=["POST"])
@office_required
def decide_requests():
    """Approve or decline a whole series or the ticked requests with one click and one reason."""
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    accept = request.form.get("decision") == "approve"
    if not accept and request.form.get("decision") != "decline":
        abort(400)
    reason = (form.reason.data or "").strip()
    bookings = chosen_bookings()
    if not bookings:
        flash(_("Bitte wählen Sie mindestens einen Termin."), "error")
        return redirect(url_for("buchung_admin.dashboard"))
    if not accept and not reason:
        flash(_("Bitte geben Sie für die Ablehnung eine Begründung an."), "error")
        return redirect(url_for("buchung_admin.dashboard"))
    outcome = decide(bookings, accept, reason, current_user)
    if not accept:
        offer_freed()
    db.session.commit()
    enqueue_notices()
    if outcome.decided:
        message = (
            _("%(count)s Termine sind genehmigt.", count=len(outcome.decided))
            if accept
            else _("%(count)s Termine sind abgelehnt.", count=len(outcome.decided))
        )
        flash(message, "success")
    for booking, closure in outcome.closed:
        flash(
            _(
                "Nicht genehmigt: %(day)s liegt in der Sperrzeit „%(closure)s“.",
                day=booking.starts_at.strftime("%d.%m.%Y"),
                closure=closure,
            ),
            "error",
        )
    return redirect(url_for("buchung_admin.dashboard"))


@bp.route("/sperrzeiten/<int:closure_id>/betroffene", methods=["POST"])
@office_required
def closure_cancel(closure_id: int):
    """Cancel the ticked bookings the closure hits, with one reason; everyone is told."""
    closure = _closure_or_404(closure_id)
    form = ClosureActionForm()
    if not form.validate_on_submit():
        abort(400)
    reason = (form.reason.data or "").strip()
    hit = {b.id: b for b in affected_bookings(closure)}
    chosen = [hit[b.id] for b in chosen_bookings() if b.id in hit]
    if not reason or not chosen:
        flash(
            _("Bitte wählen Sie die Buchungen und geben Sie eine Begründung an."),
            "error",
        )
    else:
        count = cancel_for_closures([(b, closure) for b in chosen], reason, current_user)
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
    return redirect(url_for("buchung_admin.closure_edit", closure_id=closure.id))


@bp.route("/warteliste")
@office_required
def waitlists():
    """Who waits for which time, per managed resource (waiting and offered entries)."""
    resources = {r.id: r for r in managed_resources()}
    entries = db.session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.resource_id.in_(resources),
            WaitlistEntry.state.in_(("waiting", "offered")),
            WaitlistEntry.ends_at > utcnow(),
        )
        .order_by(WaitlistEntry.resource_id, WaitlistEntry.starts_at, WaitlistEntry.created_at)
    ).all()
    by_resource: dict[int, list[WaitlistEntry]] = {}
    for entry in entries:
        by_resource.setdefault(entry.resource_id, []).append(entry)
    return render_template(
        "buchung/admin/waitlists.html",
        groups=[(resources[rid], group) for rid, group in by_resource.items()],
        label=resource_label,
    )
