"""Applicants' pages: open rounds, the application per team, and the result with reasons."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from buchung.allocation.forms import NO_HALL, ApplicationForm
from buchung.allocation.jobs import enqueue_receipt
from buchung.allocation.models import AllocationRequest, AllocationRound, Turns
from buchung.allocation.proposal import describe_time, hours
from buchung.allocation.publishing import UnitResult, check
from buchung.allocation.services import (
    create_request,
    explain,
    hall_choices,
    reason_text,
    resource_label,
    selectable_classes,
    turns_text,
)
from buchung.club_views import club_required, current_club
from buchung.forms import ConfirmForm
from lotse.extensions import db

bp = Blueprint("buchung_allocation", __name__, url_prefix="/buchung/verein/vergabe")


@bp.app_template_global()
def allocation_time(weekday: int, start: int, end: int) -> str:
    """``Mo 18:00–19:30`` for a weekly session."""
    return describe_time(weekday, start, end)


@bp.app_template_global()
def allocation_reason(reason: str, detail: str) -> str:
    return reason_text(reason, detail)


@bp.app_template_global()
def allocation_explanation(allocation, classes=None) -> str:
    return explain(allocation, classes)


@bp.app_template_global()
def allocation_resource(resource) -> str:
    return resource_label(resource)


@bp.app_template_global()
def allocation_units(request: AllocationRequest, units: dict[int, UnitResult]) -> list[UnitResult]:
    """The dates of an application's sessions, from the round's check (or what it booked)."""
    return [units[a.id] for a in request.allocations if a.id in units]


@bp.app_template_global()
def allocation_turns(turns: str) -> str:
    return turns_text(turns)


@bp.app_template_global()
def allocation_hours(minutes: int) -> str:
    return hours(minutes)


@bp.route("/")
@club_required
def rounds():
    """Every round with the club's applications: open ones to apply, published ones' results."""
    club = current_club()
    all_rounds = db.session.scalars(
        select(AllocationRound).order_by(AllocationRound.deadline.desc())
    ).all()
    own = db.session.scalars(
        select(AllocationRequest)
        .where(AllocationRequest.club_id == club.id)
        .order_by(AllocationRequest.id)
    ).all()
    return render_template(
        "buchung/allocation/rounds.html", rounds=all_rounds, own=own, form=ConfirmForm()
    )


@bp.route("/<int:round_id>/antrag", methods=["GET", "POST"])
@club_required
def apply(round_id: int):
    """Apply for one team; after the deadline nothing is accepted any more."""
    round_ = db.get_or_404(AllocationRound, round_id)
    club = current_club()
    if not round_.accepts_applications():
        flash(_("Die Antragsfrist dieser Runde ist abgelaufen."), "error")
        return redirect(url_for("buchung_allocation.rounds")), 303
    form = ApplicationForm()
    classes = selectable_classes(club)
    form.priority_class_id.choices = [SelectChoice(c.id, c.name) for c in classes]
    form.evidence_class_ids = {c.id for c in classes if c.needs_evidence}
    halls = [SelectChoice(r.id, resource_label(r)) for r in hall_choices(round_)]
    form.hall_1.choices = halls
    form.hall_2.choices = form.hall_3.choices = [SelectChoice(NO_HALL, _("keine")), *halls]
    if round_.turns != Turns.MEMBERS:
        del form.member_count
    elif not form.is_submitted():
        form.member_count.data = club.member_count
    if form.validate_on_submit():
        if round_.turns == Turns.MEMBERS:
            club.set_member_count(form.member_count.data)
        second = None
        if form.second_weekdays.data:
            second = (form.second_weekdays.data, form.minutes(form.second_start))
        application = create_request(
            round_,
            club,
            team=form.team.data.strip(),
            priority_class=next(c for c in classes if c.id == form.priority_class_id.data),
            sessions_per_week=form.sessions_per_week.data,
            duration_minutes=form.duration_minutes.data,
            first=(form.first_weekdays.data, form.minutes(form.first_start)),
            second=second,
            hall_ids=form.hall_ids(),
            remark=(form.remark.data or "").strip(),
            evidence=(form.evidence.data or "").strip(),
        )
        db.session.commit()
        enqueue_receipt(application.id)
        flash(_("Ihr Antrag ist eingegangen; Sie erhalten eine Bestätigung per E-Mail."), "success")
        return redirect(url_for("buchung_allocation.rounds"))
    return render_template("buchung/allocation/apply.html", form=form, round=round_)


@bp.route("/antrag/<int:request_id>/zuruecknehmen", methods=["POST"])
@club_required
def withdraw(request_id: int):
    """Withdraw an application while the round still accepts applications."""
    application = db.get_or_404(AllocationRequest, request_id)
    if application.club_id != current_club().id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if application.round.accepts_applications():
        db.session.delete(application)
        db.session.commit()
        flash(_("Der Antrag ist zurückgenommen."), "success")
    else:
        flash(_("Nach der Antragsfrist kann ein Antrag nicht mehr zurückgenommen werden."), "error")
    return redirect(url_for("buchung_allocation.rounds"))


@bp.route("/<int:round_id>/ergebnis")
@club_required
def result(round_id: int):
    """The published result: sessions granted, dates skipped and why each wish was not met."""
    round_ = db.get_or_404(AllocationRound, round_id)
    if not round_.published:
        abort(404)
    own = [r for r in round_.requests if r.club_id == current_club().id]
    if not own:
        abort(404)
    return render_template(
        "buchung/allocation/result.html",
        round=round_,
        requests=own,
        units=check(round_).by_allocation(),
    )
