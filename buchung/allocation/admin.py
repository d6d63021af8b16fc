"""Office pages under /verwaltung/buchung/vergabe: rounds, proposal, grid, publishing, exports."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from buchung.admin import managed_resource_or_404, managed_resources
from buchung.allocation.exports import figure_state, figure_tables, figures_csv, figures_pdf
from buchung.allocation.forms import (
    NEW_SEASON,
    AllocationForm,
    ApplicantClassForm,
    PriorityClassForm,
    PublishForm,
    RequestClassForm,
    RoundForm,
    UnpublishForm,
)
from buchung.allocation.jobs import enqueue_publishing, start
from buchung.allocation.models import (
    Allocation,
    AllocationRequest,
    AllocationRound,
    ApplicantClass,
    PriorityClass,
    RoundState,
    round_resource,
)
from buchung.allocation.proposal import propose
from buchung.allocation.publishing import RoundCheck, check, created_series
from buchung.allocation.services import (
    AllocationRefused,
    add_allocation,
    confirm_class,
    hall_grid,
    priority_classes,
    resource_label,
    set_applicant_class,
)
from buchung.clock import local_moment, local_today
from buchung.club_models import Club, Season
from buchung.exports import csv_download
from buchung.forms import ConfirmForm
from buchung.models import Booking, Resource
from buchung.services.quotas import season_quota_rows
from lotse.auth import department_scope, roles_required
from lotse.extensions import db
from lotse.models import utcnow

bp = Blueprint("buchung_allocation_admin", __name__, url_prefix="/verwaltung/buchung/vergabe")
office_required = roles_required("booking_office")


def _round_form() -> RoundForm:
    form = RoundForm()
    form.season_id.choices = [
        SelectChoice(NEW_SEASON, _("Neue Saison")),
        *(
            SelectChoice(s.id, s.name)
            for s in db.session.scalars(select(Season).order_by(Season.first_day.desc()))
        ),
    ]
    form.resource_ids.choices = [
        SelectChoice(r.id, r.name) for r in managed_resources() if r.parent_id is None
    ]
    return form


def _class_forms() -> tuple[PriorityClassForm, ApplicantClassForm]:
    applicant_form = ApplicantClassForm()
    applicant_form.club_id.choices = [
        SelectChoice(c.id, c.name) for c in db.session.scalars(select(Club).order_by(Club.name))
    ]
    applicant_form.priority_class_id.choices = [
        SelectChoice(c.id, c.name) for c in priority_classes()
    ]
    return PriorityClassForm(), applicant_form


def _rounds_page(form: RoundForm | None = None, class_form=None, applicant_form=None, status=200):
    default_class_form, default_applicant_form = _class_forms()
    return render_template(
        "buchung/allocation/admin/rounds.html",
        rounds=db.session.scalars(managed_rounds().order_by(AllocationRound.deadline.desc())).all(),
        form=form or _round_form(),
        classes=priority_classes(),
        fixed=db.session.scalars(select(ApplicantClass)).all(),
        clubs={c.id: c.name for c in db.session.scalars(select(Club))},
        class_form=class_form or default_class_form,
        applicant_form=applicant_form or default_applicant_form,
    ), status


@bp.route("/")
@office_required
def rounds():
    """Rounds, the town's priority classes and the applicants with a fixed class."""
    return _rounds_page()


@bp.route("/runde", methods=["POST"])
@office_required
def new_round():
    """Open a round for a season and halls, with an application deadline."""
    form = _round_form()
    if not form.validate_on_submit():
        return _rounds_page(form, status=400)
    if form.season_id.data == NEW_SEASON:
        name = form.season_name.data.strip()
        if db.session.scalar(select(Season).where(Season.name == name)):
            form.season_name.errors.append(_("Eine Saison mit diesem Namen gibt es schon."))
            return _rounds_page(form, status=400)
        season = Season(name=name, first_day=form.first_day.data, last_day=form.last_day.data)
    else:
        season = db.session.get(Season, form.season_id.data)
    round_ = AllocationRound(
        name=form.name.data.strip(),
        season=season,
        deadline=local_moment(
            form.deadline_day.data,
            form.deadline_time.data.hour * 60 + form.deadline_time.data.minute,
        ),
        resources=[db.session.get(Resource, rid) for rid in form.resource_ids.data],
        turns=form.turns.data,
        created_by=current_user,
    )
    db.session.add(round_)
    db.session.commit()
    flash(_("Die Runde ist eröffnet; Vereine können bis zur Frist Anträge stellen."), "success")
    return redirect(url_for(".round_page", round_id=round_.id))


@bp.route("/klassen", methods=["POST"])
@office_required
def new_class():
    """Add a priority class."""
    class_form, _applicant_form = _class_forms()
    if not class_form.validate_on_submit():
        return _rounds_page(class_form=class_form, status=400)
    name = class_form.name.data.strip()
    if db.session.scalar(select(PriorityClass).where(PriorityClass.name == name)):
        class_form.name.errors.append(_("Eine Klasse mit diesem Namen gibt es schon."))
        return _rounds_page(class_form=class_form, status=400)
    db.session.add(
        PriorityClass(
            name=name,
            rank=class_form.rank.data,
            open_to_clubs=class_form.open_to_clubs.data,
            needs_evidence=class_form.needs_evidence.data,
        )
    )
    db.session.commit()
    flash(_("Die Klasse ist angelegt."), "success")
    return redirect(url_for(".rounds"))


@bp.route("/antragsteller-klasse", methods=["POST"])
@office_required
def applicant_class():
    """Fix an applicant's class (a school applies always as Schule)."""
    _class_form, applicant_form = _class_forms()
    if not applicant_form.validate_on_submit():
        return _rounds_page(applicant_form=applicant_form, status=400)
    set_applicant_class(
        db.session.get(Club, applicant_form.club_id.data),
        db.session.get(PriorityClass, applicant_form.priority_class_id.data),
    )
    db.session.commit()
    flash(_("Die Klasse ist zugewiesen."), "success")
    return redirect(url_for(".rounds"))


def managed_rounds():
    """Rounds whose halls all belong to the signed-in office's departments (all for admins)."""
    foreign_hall = (
        select(round_resource.c.resource_id)
        .join(Resource, Resource.id == round_resource.c.resource_id)
        .where(
            round_resource.c.round_id == AllocationRound.id,
            ~department_scope(Resource.department_id),
        )
    )
    return select(AllocationRound).where(~foreign_hall.exists())


def _round_or_404(round_id: int) -> AllocationRound:
    """A round of the office's own halls, else 404; its applications come with their
    allocations and notes (every page of a round shows or counts them)."""
    round_ = db.session.scalar(
        managed_rounds()
        .where(AllocationRound.id == round_id)
        .options(
            selectinload(AllocationRound.requests).options(
                selectinload(AllocationRequest.allocations), selectinload(AllocationRequest.notes)
            )
        )
    )
    if round_ is None:
        abort(404)
    return round_


@bp.route("/<int:round_id>")
@office_required
def round_page(round_id: int):
    """All applications sorted by priority class, the proposal's decisions, and the actions."""
    round_ = _round_or_404(round_id)
    requests = sorted(round_.requests, key=lambda r: (r.priority_class.rank, r.club.name, r.id))
    result = check(round_) if round_.published else None
    applicants = sorted({r.club for r in requests}, key=lambda c: (c.name, c.id))
    quota_halls = sorted({h.root for h in round_.resources}, key=lambda h: (h.name, h.id))
    classes = priority_classes()
    quotas = {
        (q.club_id, q.resource_id): (q.max_minutes, default)
        for rows in season_quota_rows([c.id for c in applicants], round_.season).values()
        for q, default in rows
    }
    return render_template(
        "buchung/allocation/admin/round.html",
        round=round_,
        requests=requests,
        applicants=applicants,
        quota_halls=quota_halls,
        quotas=quotas,
        result=result,
        units=result.by_allocation() if result else {},
        deadline_passed=utcnow() >= round_.deadline,
        form=ConfirmForm(),
        classes=classes,
        class_form=_request_class_form(classes),
    )


def _request_class_form(classes: list[PriorityClass] | None = None) -> RequestClassForm:
    form = RequestClassForm()
    form.priority_class_id.choices = [
        SelectChoice(c.id, c.name) for c in (priority_classes() if classes is None else classes)
    ]
    return form


@bp.route("/antrag/<int:request_id>/klasse", methods=["POST"])
@office_required
def request_class(request_id: int):
    """Confirm or correct the priority class of one application before publishing (e.g. a
    leisure group that applied as Wettkampf); the next proposal counts it so."""
    application = db.get_or_404(AllocationRequest, request_id)
    _round_or_404(application.round_id)
    form = _request_class_form()
    if not form.validate_on_submit():
        abort(400)
    if application.round.state != RoundState.OPEN:
        flash(
            _("Die Runde ist veröffentlicht; bitte erst die Veröffentlichung zurücknehmen."),
            "error",
        )
    else:
        changed = application.priority_class_id != form.priority_class_id.data
        confirm_class(application, db.session.get(PriorityClass, form.priority_class_id.data))
        db.session.commit()
        if changed:
            flash(_("Die Klasse des Antrags ist geändert."), "success")
        else:
            flash(_("Die Klasse des Antrags ist bestätigt."), "success")
    return redirect(url_for(".round_page", round_id=application.round_id))


def _after_deadline(round_: AllocationRound) -> bool:
    if utcnow() < round_.deadline:
        flash(_("Vor Ablauf der Antragsfrist wird nicht vergeben."), "error")
        return False
    if round_.state != RoundState.OPEN:
        flash(
            _("Die Runde ist veröffentlicht; bitte erst die Veröffentlichung zurücknehmen."),
            "error",
        )
        return False
    return True


@bp.route("/<int:round_id>/vorschlag", methods=["POST"])
@office_required
def proposal(round_id: int):
    """Let Lotse propose a complete allocation (replaces the current one)."""
    round_ = _round_or_404(round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if _after_deadline(round_):
        allocations = propose(round_)
        db.session.commit()
        flash(
            _("Vorschlag erstellt: %(count)s Einheiten zugeteilt.", count=len(allocations)),
            "success",
        )
    return redirect(url_for(".round_page", round_id=round_id))


@bp.route("/<int:round_id>/halle/<int:hall_id>", methods=["GET", "POST"])
@office_required
def grid(round_id: int, hall_id: int):
    """One hall's week with every wish and session, conflicts marked; add a session by hand."""
    round_ = _round_or_404(round_id)
    hall = managed_resource_or_404(hall_id)
    if hall not in round_.resources:
        abort(404)
    form = AllocationForm()
    form.request_id.choices = [
        SelectChoice(r.id, f"{r.team} ({r.club.name}, {r.priority_class.name})")
        for r in sorted(round_.requests, key=lambda r: (r.priority_class.rank, r.id))
    ]
    form.resource_id.choices = [SelectChoice(r.id, resource_label(r)) for r in [hall, *hall.parts]]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and _after_deadline(round_):
            try:
                add_allocation(
                    db.session.get(AllocationRequest, form.request_id.data),
                    db.session.get(Resource, form.resource_id.data),
                    form.weekday.data,
                    form.start.data.hour * 60 + form.start.data.minute,
                )
            except AllocationRefused as refused:
                db.session.rollback()
                form.start.errors.append(str(refused))
                status = 400
            else:
                db.session.commit()
                flash(_("Die Einheit ist zugeteilt."), "success")
                return redirect(url_for(".grid", round_id=round_id, hall_id=hall_id))
        else:
            status = 400
    return render_template(
        "buchung/allocation/admin/grid.html",
        round=round_,
        grid=hall_grid(round_, hall),
        form=form,
        remove_form=ConfirmForm(),
    ), status


@bp.route("/zuteilung/<int:allocation_id>/entfernen", methods=["POST"])
@office_required
def remove(allocation_id: int):
    """Take a session back before publishing."""
    allocation = db.get_or_404(Allocation, allocation_id)
    round_ = _round_or_404(allocation.request.round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    hall_id = allocation.resource.root.id
    if _after_deadline(round_):
        db.session.delete(allocation)
        db.session.commit()
        flash(_("Die Einheit ist entfernt."), "success")
    return redirect(url_for(".grid", round_id=round_.id, hall_id=hall_id))


def _check_page(round_: AllocationRound, result: RoundCheck, form: PublishForm, status=200):
    form.gaps.data = result.digest
    return render_template(
        "buchung/allocation/admin/check.html",
        round=round_,
        result=result,
        form=form,
        deadline_passed=utcnow() >= round_.deadline,
    ), status


@bp.route("/<int:round_id>/pruefen")
@office_required
def check_round(round_id: int):
    """Before publishing: every date publishing will book, and every date it will not, why."""
    round_ = _round_or_404(round_id)
    return _check_page(round_, check(round_), PublishForm())


@bp.route("/<int:round_id>/veroeffentlichen", methods=["POST"])
@office_required
def publish_round(round_id: int):
    """Book every allocation as a series and mail every applicant its result.

    Dates the check says will be lost to the quota or other bookings must have been
    accepted on the check page, exactly as listed; otherwise nothing is published.
    """
    round_ = _round_or_404(round_id)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    if utcnow() < round_.deadline:
        flash(_("Vor Ablauf der Antragsfrist wird nicht vergeben."), "error")
        return redirect(url_for(".round_page", round_id=round_id))
    if round_.state != RoundState.OPEN:
        flash(_("Die Runde wird schon veröffentlicht oder ist veröffentlicht."), "error")
        return redirect(url_for(".round_page", round_id=round_id))
    result = check(round_)
    to_accept = result.to_accept()
    if to_accept and not form.accept.data:
        form.accept.errors = [
            _("Bitte akzeptieren Sie die Lücken oder ändern Sie die Zuteilung."),
        ]
        return _check_page(round_, result, form, status=400)
    if to_accept and form.gaps.data != result.digest:
        form.accept.errors = [
            _("Die Lücken haben sich inzwischen geändert; bitte prüfen Sie sie erneut."),
        ]
        form.accept.data = False
        return _check_page(round_, result, form, status=400)
    if start(round_, RoundState.PUBLISHING, by=current_user, accepted_gaps=len(to_accept)):
        db.session.commit()
        enqueue_publishing(round_.id)
        db.session.expire_all()  # without a queue the job ran already, in its own session
        if round_.published:
            flash(_("Die Runde ist veröffentlicht: die Serien sind gebucht."), "success")
        else:
            flash(_("Die Runde wird veröffentlicht; die Serien werden jetzt gebucht."), "success")
    else:
        flash(_("Die Runde wird schon veröffentlicht oder ist veröffentlicht."), "error")
    return redirect(url_for(".round_page", round_id=round_id))


@bp.route("/<int:round_id>/zuruecknehmen", methods=["GET", "POST"])
@office_required
def unpublish_round(round_id: int):
    """Name every series the round created, then (confirmed) remove exactly those."""
    round_ = _round_or_404(round_id)
    series_list = created_series(round_)
    listed = ",".join(str(s.id) for s in series_list)
    form = UnpublishForm(data={"series_ids": listed} if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and form.series_ids.data == listed:
            if start(round_, RoundState.REVOKING):
                db.session.commit()
                enqueue_publishing(round_.id)
                flash(
                    _(
                        "Die Veröffentlichung wird zurückgenommen: %(count)s Serien werden gelöscht.",
                        count=len(series_list),
                    ),
                    "success",
                )
            else:
                flash(_("Die Runde ist nicht veröffentlicht."), "error")
            return redirect(url_for(".round_page", round_id=round_id))
        if form.series_ids.data != listed:
            form.confirm.errors = [
                *form.confirm.errors,
                _("Die Liste hat sich inzwischen geändert; bitte prüfen Sie sie erneut."),
            ]
            form.series_ids.data = listed
        status = 400
    counts = dict(
        db.session.execute(
            select(Booking.series_id, func.count())
            .where(Booking.series_id.in_([s.id for s in series_list]))
            .group_by(Booking.series_id)
        ).all()
    )
    return render_template(
        "buchung/allocation/admin/unpublish.html",
        round=round_,
        series_list=series_list,
        counts=counts,
        form=form,
    ), status


@bp.route("/<int:round_id>/zahlen")
@office_required
def figures_page(round_id: int):
    """Hours requested versus allocated, per hall and per applicant: the page the PDF prints."""
    round_ = _round_or_404(round_id)
    return render_template(
        "buchung/allocation/admin/figures.html",
        round=round_,
        tables=figure_tables(round_),
        state=figure_state(round_),
    )


@bp.route("/<int:round_id>/zahlen.<any(csv,pdf):fmt>")
@office_required
def export(round_id: int, fmt: str):
    """Hours requested versus allocated, per hall or per applicant, for the council."""
    round_ = _round_or_404(round_id)
    stamp = local_today().isoformat()
    if fmt == "pdf":
        return Response(
            figures_pdf(round_),
            mimetype="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="vergabe-{round_id}-{stamp}.pdf"'
            },
        )
    by = "club" if request.args.get("je") == "antragsteller" else "hall"
    return csv_download(figures_csv(round_, by), f"vergabe-{round_id}-{by}-{stamp}.csv")
