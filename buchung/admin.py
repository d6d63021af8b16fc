"""Booking office pages under /verwaltung/buchung: requests, calendar, bookings, blockings.

A booking-office member sees the resources of their departments; admins see all.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from buchung.admin_forms import DecisionForm
from buchung.clock import local_moment, local_today, monday_of
from buchung.forms import (
    ConfirmForm,
    ReasonForm,
    StaffBookingForm,
    attach_violations,
    prefill_times,
)
from buchung.jobs import enqueue_notices
from buchung.models import Booking, BookingKind, BookingStatus, Resource
from buchung.services.alternatives import blocked_by
from buchung.services.availability import bookings_between
from buchung.services.booking import (
    BookingRefused,
    Contact,
    SlotTaken,
    approve,
    cancel,
    create_booking,
    decline,
)
from buchung.services.decisions import closure_in_the_way
from buchung.services.rules import closed_intervals
from buchung.services.waitlist import offer_freed
from lotse.auth import department_scope, in_department_scope, roles_required
from lotse.extensions import db
from lotse.models import utcnow

bp = Blueprint("buchung_admin", __name__, url_prefix="/verwaltung/buchung")
office_required = roles_required("booking_office")


def managed_query():
    """Resources (halls, parts, rooms) the signed-in staff member manages."""
    return select(Resource).where(department_scope(Resource.department_id)).order_by(Resource.name)


def managed_resources() -> list[Resource]:
    """The resources the signed-in staff member manages, as a list, with their parts (in
    one query: the relationship's own eager loading stops at a self-reference)."""
    return list(db.session.scalars(managed_query().options(selectinload(Resource.parts))))


def managed_resource_or_404(resource_id: int) -> Resource:
    """A resource of the staff member's departments (any for admins), else 404."""
    resource = db.get_or_404(Resource, resource_id)
    if not in_department_scope(resource.department_id):
        abort(404)
    return resource


def managed_booking_or_404(booking_id: int) -> Booking:
    """A booking of a managed resource, else 404."""
    booking = db.get_or_404(Booking, booking_id)
    managed_resource_or_404(booking.resource_id)
    return booking


def resource_label(resource: Resource) -> str:
    """The name staff read: "Hall – Part" for parts."""
    return f"{resource.parent.name} – {resource.name}" if resource.parent else resource.name


def resource_tree(resources: list[Resource]) -> list[Resource]:
    """Halls followed by their parts, for lists and the calendar."""
    ids = {r.id for r in resources}
    ordered = []
    for resource in resources:
        if resource.parent_id is None or resource.parent_id not in ids:
            ordered.append(resource)
            ordered.extend(p for p in resource.parts if p.id in ids)
    return ordered


@bp.route("/")
@office_required
def dashboard():
    """Requests waiting for a decision, and the next bookings, of the office's resources."""
    ids = select(managed_query().with_only_columns(Resource.id).subquery())
    requests = db.session.scalars(
        select(Booking)
        .where(Booking.resource_id.in_(ids), Booking.status == BookingStatus.REQUESTED)
        .order_by(Booking.starts_at)
    ).all()
    upcoming = db.session.scalars(
        select(Booking)
        .where(
            Booking.resource_id.in_(ids),
            Booking.status == BookingStatus.CONFIRMED,
            Booking.ends_at > utcnow(),
        )
        .order_by(Booking.starts_at)
        .limit(20)
    ).all()
    series_groups: dict[int, list[Booking]] = {}
    for booking in requests:
        if booking.series_id is not None:
            series_groups.setdefault(booking.series_id, []).append(booking)
    return render_template(
        "buchung/admin/dashboard.html",
        requests=[b for b in requests if b.series_id is None],
        series_groups=list(series_groups.values()),
        upcoming=upcoming,
        label=resource_label,
        decision_form=DecisionForm(),
    )


@bp.route("/kalender")
@office_required
def calendar():
    """Day or week calendar of every managed resource, with bookers and purposes."""
    try:
        day = date.fromisoformat(request.args.get("datum", ""))
    except ValueError:
        day = local_today()
    by_week = request.args.get("ansicht", "woche") != "tag"
    first = monday_of(day) if by_week else day
    days = [first + timedelta(days=n) for n in range(7 if by_week else 1)]
    resources = resource_tree(managed_resources())
    bookings = bookings_between(resources, local_moment(days[0], 0), local_moment(days[-1], 1440))
    cells: dict[tuple[int, date], list[Booking]] = {}
    for booking in bookings:
        for d in days:
            if booking.starts_at < local_moment(d, 1440) and booking.ends_at > local_moment(d, 0):
                cells.setdefault((booking.resource_id, d), []).append(booking)
    step = timedelta(days=7 if by_week else 1)
    return render_template(
        "buchung/admin/calendar.html",
        resources=resources,
        days=days,
        cells=cells,
        by_week=by_week,
        prev_day=days[0] - step,
        next_day=days[0] + step,
        label=resource_label,
    )


@bp.route("/buchungen/<int:booking_id>")
@office_required
def booking_detail(booking_id: int):
    """One booking with its booker and the office's actions (approve, decline, cancel)."""
    return _detail_page(managed_booking_or_404(booking_id))


def _detail_page(booking: Booking, **forms):
    """The booking page with its three action forms (one of them possibly with errors)."""
    forms.setdefault("approve_form", ConfirmForm(prefix="approve"))
    forms.setdefault("decline_form", ReasonForm(prefix="decline"))
    forms.setdefault("cancel_form", ReasonForm(prefix="cancel"))
    return render_template(
        "buchung/admin/booking.html", booking=booking, label=resource_label, **forms
    )


@bp.route("/buchungen/<int:booking_id>/genehmigen", methods=["POST"])
@office_required
def approve_booking(booking_id: int):
    """Accept a request; the booker gets the confirmation with a calendar file."""
    booking = managed_booking_or_404(booking_id)
    if not ConfirmForm(prefix="approve").validate_on_submit():
        abort(400)
    if booking.status != BookingStatus.REQUESTED:
        flash(_("Diese Anfrage ist schon entschieden."), "error")
    elif closure := closure_in_the_way(booking):
        flash(
            _(
                "Nicht genehmigt: In dieser Zeit ist geschlossen (%(closure)s). Lehnen Sie die "
                "Anfrage mit einer Begründung ab.",
                closure=closure,
            ),
            "error",
        )
    else:
        approve(booking, current_user)
        db.session.commit()
        enqueue_notices(booking)
        flash(_("Die Anfrage ist genehmigt."), "success")
    return redirect(url_for("buchung_admin.booking_detail", booking_id=booking.id))


@bp.route("/buchungen/<int:booking_id>/<any(ablehnen, stornieren):action>", methods=["POST"])
@office_required
def end_booking(booking_id: int, action: str):
    """Decline a request or cancel a booking, with a reason that is mailed to the booker."""
    booking = managed_booking_or_404(booking_id)
    declining = action == "ablehnen"
    name = "decline" if declining else "cancel"
    form = ReasonForm(prefix=name)
    allowed = booking.status == BookingStatus.REQUESTED if declining else booking.is_active
    if not allowed:
        flash(_("Diese Buchung ist schon beendet."), "error")
    elif form.validate_on_submit():
        if declining:
            decline(booking, current_user, form.reason.data.strip())
        else:
            cancel(booking, form.reason.data.strip(), current_user)
        offer_freed()
        db.session.commit()
        enqueue_notices()
        flash(_("Erledigt; die Zeit ist wieder frei."), "success")
    else:
        return _detail_page(booking, **{f"{name}_form": form}), 400
    return redirect(url_for("buchung_admin.booking_detail", booking_id=booking.id))


@bp.route("/buchungen/neu", methods=["GET", "POST"])
@office_required
def new_booking():
    """Book for a caller, or block a resource, without the public rules (grid only)."""
    resources = resource_tree([r for r in managed_resources() if r.root.active])
    form = StaffBookingForm()
    form.resource_id.choices = [SelectChoice(r.id, resource_label(r)) for r in resources]
    extra_errors: list[str] = []
    if request.method == "GET":
        form.resource_id.data = request.args.get("raum", type=int)
        if form.resource_id.data:
            prefill_times(form, managed_resource_or_404(form.resource_id.data))
    status = 200
    closure_hit = None
    if form.validate_on_submit() and (moments := form.moments()):
        resource = managed_resource_or_404(form.resource_id.data)
        closed = closed_intervals(resource, *moments)
        closure_hit = closed[0].title if closed and form.kind.data == BookingKind.BOOKING else None
        if closure_hit and not form.despite_closure.data:
            form.day.errors.append(
                _(
                    "In dieser Zeit ist geschlossen: %(title)s. Eintragen nur mit „Trotz der "
                    "Sperrzeit eintragen“.",
                    title=closure_hit,
                )
            )
            return render_template(
                "buchung/admin/new_booking.html",
                form=form,
                extra_errors=extra_errors,
                closure_hit=closure_hit,
            ), 200
        try:
            booking = create_booking(
                resource,
                *moments,
                purpose=form.purpose.data.strip(),
                attendees=form.attendees.data,
                customer_group=form.customer_group.data or None,
                contact=Contact(
                    (form.contact_name.data or "").strip(),
                    (form.contact_email.data or "").strip().lower(),
                    (form.contact_phone.data or "").strip(),
                ),
                staff=current_user,
                kind=form.kind.data,
            )
            db.session.commit()
        except BookingRefused as refused:
            db.session.rollback()
            status = 409 if isinstance(refused, SlotTaken) else 200
            blocked = blocked_by(resource, *moments) if status == 409 else None
            extra_errors = attach_violations(form, refused.violations, blocked=blocked)
        else:
            if closure_hit:
                current_app.logger.warning(
                    "buchung: %s booked %s despite the closure %r (booking %s)",
                    current_user.email,
                    resource.name,
                    closure_hit,
                    booking.id,
                )
            enqueue_notices(booking)
            done = (
                _("Die Blockung ist eingetragen.")
                if booking.kind == BookingKind.BLOCKING
                else _("Die Buchung ist eingetragen.")
            )
            flash(done, "success")
            return redirect(url_for("buchung_admin.booking_detail", booking_id=booking.id))
    return render_template(
        "buchung/admin/new_booking.html",
        form=form,
        extra_errors=extra_errors,
        closure_hit=closure_hit,
    ), status
