"""Public pages: halls and rooms, their week availability, booking, the private booking link."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from buchung.admin_forms import WEEKDAYS
from buchung.clock import format_hhmm, local_today, minute_of_day, monday_of
from buchung.club_models import Season
from buchung.fees.pricing import record_options
from buchung.forms import (
    CELL_LABELS,
    GROUP_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    BookingForm,
    ConfirmForm,
    FilterForm,
    WaitlistForm,
    attach_violations,
    offered_formdata,
    prefill_times,
)
from buchung.ics import booking_calendar
from buchung.jobs import enqueue_notices
from buchung.kept import kept_page, plan_moment, week_moment
from buchung.models import Booking, Resource
from buchung.opening import hours_number, hours_text
from buchung.photos import photo_dir
from buchung.services import availability
from buchung.services.alternatives import alternatives, blocked_by, free_parts
from buchung.services.booking import (
    BookingRefused,
    Contact,
    SlotTaken,
    can_cancel_as_booker,
    cancel,
    cancellation_deadline,
    confirm_hold,
    create_booking,
)
from buchung.services.notices import office_contact
from buchung.services.plan import public_week_plan, season_plan
from buchung.services.seasons import all_seasons
from buchung.services.waitlist import entry_from_token, join, leave, leave_token, offer_freed
from buchung.week_html import week_page
from lotse.errors import wants_json
from lotse.extensions import db, limiter
from lotse.formatting import date_formatter
from lotse.models import utcnow
from lotse.outbox import queue_mail
from lotse.pdf import render_pdf

bp = Blueprint("buchung", __name__, url_prefix="/buchung")
MAX_DAYS_AWAY = 3 * 366  # how far from today the week view may be moved


def bookable_resources():
    """Active halls and rooms (top level; parts are shown with their hall)."""
    return (
        select(Resource)
        .where(Resource.active.is_(True), Resource.parent_id.is_(None))
        .order_by(Resource.name)
    )


def get_resource_or_404(resource_id: int, *options) -> Resource:
    """An active resource (of an active hall), else 404; ``options`` load what the page shows."""
    if options:
        stmt = select(Resource).where(Resource.id == resource_id).options(*options)
        resource = db.session.scalars(stmt).unique().first() or abort(404)
    else:
        resource = db.get_or_404(Resource, resource_id)
    if not resource.active or not resource.root.active:
        abort(404)
    return resource


def week_arg(name: str = "woche") -> date:
    """The Monday of the week asked for in the query string (default: this week)."""
    today = local_today()
    try:
        day = date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return monday_of(today)
    return monday_of(day if abs((day - today).days) <= MAX_DAYS_AWAY else today)


@bp.route("/")
def index():
    """List the halls and rooms, filtered by type, size, equipment and a free day."""
    form = FilterForm(request.args)
    query = bookable_resources()
    valid = form.validate() if request.args else True
    if valid and form.kind.data:
        query = query.where(Resource.kind == form.kind.data)
    if valid and form.capacity.data:
        query = query.where(Resource.capacity >= form.capacity.data)
    if valid and form.equipment.data:
        query = query.where(Resource.equipment.ilike(f"%{form.equipment.data.strip()}%"))
    # Parts in one query: the relationship's own eager loading stops at a self-reference.
    resources = list(db.session.scalars(query.options(selectinload(Resource.parts))))
    unavailable: list[tuple[Resource, str]] = []
    if valid and form.day.data:
        day = form.day.data
        free = []
        for resource in resources:
            grids = [availability.grid(unit, [day]) for unit in [resource, *resource.parts]]
            if any(grid.has_free() for grid in grids):
                free.append(resource)
            else:
                unavailable.append((resource, availability.why_not_free(grids[0])))
        resources = free
    return render_template(
        "buchung/index.html",
        form=form,
        resources=resources,
        unavailable=unavailable,
        shared_reason=_shared_reason(unavailable) if not resources else None,
    )


def _shared_reason(unavailable: list[tuple[Resource, str]]) -> str | None:
    """The one reason every room is closed on the filtered day (a Feiertag), if there is one."""
    reasons = {reason for _resource, reason in unavailable}
    return reasons.pop() if len(reasons) == 1 and len(unavailable) > 1 else None


def first_day_arg() -> date:
    """The first day of the shown week: ``?ab=`` any day, ``?woche=`` that week's Monday
    (older links), else today, so that a week never opens with days gone by."""
    today = local_today()
    try:
        first = date.fromisoformat(request.args.get("ab", ""))
    except ValueError:
        return week_arg() if "woche" in request.args else today
    # A hand-made link far off shows this week rather than running off the calendar.
    return first if abs((first - today).days) <= MAX_DAYS_AWAY else today


@bp.route("/<int:resource_id>")
def resource_page(resource_id: int):
    """A hall or room with its details and seven days of free and taken times from today."""
    return kept_page(week_moment(), lambda: _resource_page(resource_id))


def _resource_page(resource_id: int) -> str:
    # Opening hours and photos with the resource: one statement, not three.
    resource = get_resource_or_404(
        resource_id, joinedload(Resource.opening_hours), joinedload(Resource.photos)
    )
    first = first_day_arg()
    today = local_today()
    grid = availability.grid(resource, [first + timedelta(days=n) for n in range(7)])
    return render_template(
        "buchung/resource.html",
        resource=resource,
        grid=grid,
        page=week_page(
            grid,
            today,
            max(first - timedelta(days=7), today),
            first + timedelta(days=7),
            bookable=resource.root.access == "public",
        ),
    )


def plan_context(resource: Resource, monday: date) -> dict:
    """What the Belegungsplan page and its PDF show: the week, its neighbours, when made."""
    plan = public_week_plan(resource, monday)
    day_name = date_formatter("EEEE dd.MM.")
    return {
        "plan": plan,
        "day_names": [day_name(day) for day in plan.days],
        "seasons": all_seasons(),
        "prev_week": monday - timedelta(days=7),
        "next_week": monday + timedelta(days=7),
        "made": utcnow(),
    }


@bp.route("/<int:resource_id>/belegungsplan")
def plan(resource_id: int):
    """The public weekly Belegungsplan of a hall, printable; "belegt" unless clubs are public."""
    return kept_page(plan_moment(), lambda: _plan(resource_id))


def _plan(resource_id: int) -> str:
    resource = get_resource_or_404(resource_id)
    return render_template("buchung/plan.html", **plan_context(resource, week_arg()))


@bp.route("/<int:resource_id>/belegungsplan.pdf")
def plan_pdf(resource_id: int):
    """The same public week plan, printed from the page's template, as a tagged PDF."""
    resource = get_resource_or_404(resource_id)
    monday = week_arg()
    return pdf_response(
        render_pdf("buchung/plan.html", **plan_context(resource, monday)),
        f"belegungsplan-{resource.id}-{monday.isoformat()}.pdf",
    )


def partly_taken(form: BookingForm, resource: Resource) -> dict | None:
    """For a "teilweise belegt" cell of a divisible hall: what is taken, which parts are free."""
    if not resource.parts or not (form.day.data and form.start.data and form.end.data):
        return None
    moments = form.moments()
    if moments is None:
        return None
    blocked = blocked_by(resource, *moments)
    if not blocked:
        return None
    return {"blocked": blocked, "parts": free_parts(resource, *moments), "moments": moments}


def season_context(resource: Resource, season_id: int) -> dict:
    """What the season's Belegungsplan page and its PDF show."""
    season = db.get_or_404(Season, season_id)
    return {
        "plan": season_plan(resource, season),
        "made": utcnow(),
        "seasons": all_seasons(),
        "weekday_names": WEEKDAYS,
    }


@bp.route("/<int:resource_id>/belegungsplan/saison/<int:season_id>")
def season_plan_page(resource_id: int, season_id: int):
    """The public Belegungsplan of a whole season: the regular weekly times, the closed days."""
    resource = get_resource_or_404(resource_id)
    return render_template("buchung/plan_season.html", **season_context(resource, season_id))


@bp.route("/<int:resource_id>/belegungsplan/saison/<int:season_id>.pdf")
def season_plan_pdf(resource_id: int, season_id: int):
    """The season's Belegungsplan printed from the page's template, as a tagged PDF."""
    resource = get_resource_or_404(resource_id)
    context = season_context(resource, season_id)
    return pdf_response(
        render_pdf("buchung/plan_season.html", **context),
        f"belegungsplan-{resource.id}-saison-{season_id}.pdf",
    )


def pdf_response(data: bytes, filename: str):
    """A public plan PDF: shown in the browser, cached for five minutes."""
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "max-age=300"
    return response


@bp.route("/<int:resource_id>/buchen", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["BUCHUNG_LIMIT_PER_IP"], methods=["POST"])
def book(resource_id: int):
    """Book a free time: the guest's booking holds the slot until the e-mail link is confirmed.

    A refusal says what blocks the time and offers the next free times, free parts of the
    hall and the waiting list; a "teilweise belegt" cell opens with the free parts offered.
    """
    resource = get_resource_or_404(resource_id)
    offered = offered_formdata() if request.method == "POST" else None
    form = BookingForm() if offered is None else BookingForm(formdata=offered)
    partial = None
    if request.method == "GET":
        prefill_times(form, resource)
        partial = partly_taken(form, resource)
    extra_errors: list[str] = []
    offers = None
    status = 200
    if form.validate_on_submit() and (moments := form.moments()):
        try:
            booking = create_booking(
                resource,
                *moments,
                purpose=form.purpose.data.strip(),
                attendees=form.attendees.data,
                customer_group=form.customer_group.data,
                contact=Contact(
                    form.contact_name.data.strip(),
                    form.contact_email.data.strip().lower(),
                    form.contact_phone.data.strip(),
                ),
            )
            record_options([booking], form.youth.data, form.cleaning.data)
            db.session.commit()
        except BookingRefused as refused:
            db.session.rollback()
            if isinstance(refused, SlotTaken):
                if wants_json():
                    abort(409)
                status = 409
            offers = alternatives(resource, *moments)
            extra_errors = attach_violations(
                form, refused.violations, blocked=offers.blocked if status == 409 else None
            )
        else:
            enqueue_notices(booking)
            return redirect(
                url_for("buchung.sent", minutes=current_app.config["BUCHUNG_HOLD_MINUTES"])
            )
    return (
        render_template(
            "buchung/book.html",
            form=form,
            resource=resource,
            extra_errors=extra_errors,
            offers=offers,
            partial=partial,
        ),
        status,
    )


@bp.route("/<int:resource_id>/warteliste", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["BUCHUNG_LIMIT_PER_IP"], methods=["POST"])
def waitlist(resource_id: int):
    """Queue for a taken time; the first in line is offered it by e-mail when it frees up."""
    resource = get_resource_or_404(resource_id)
    form = WaitlistForm()
    if request.method == "GET":
        prefill_times(form, resource)
    if form.validate_on_submit() and (moments := form.moments()):
        entry = join(resource, *moments, form.name.data.strip(), form.email.data.strip().lower())
        if entry is None:
            form.day.errors.append(_("Diese Zeit ist frei – Sie können sie gleich buchen."))
        else:
            queue_mail(
                entry.email,
                _("Sie stehen auf der Warteliste"),
                "buchung/emails/waitlist_joined",
                kind="buchung.waitlist_joined",
                ref=f"waitlist:{entry.id}",
                entry=entry,
                token=leave_token(entry),
            )
            db.session.commit()
            flash(
                _("Sie stehen auf der Warteliste. Wird die Zeit frei, schreiben wir Ihnen."),
                "success",
            )
            return redirect(url_for("buchung.resource_page", resource_id=resource.id))
    return render_template("buchung/waitlist.html", form=form, resource=resource)


@bp.route("/warteliste/<token>/austragen", methods=["GET", "POST"])
def waitlist_leave(token: str):
    """Leave the waiting list from the link in the joining mail (a button, then POST)."""
    entry = entry_from_token(token)
    if entry is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        if leave(entry):
            db.session.commit()
            flash(_("Sie sind von der Warteliste ausgetragen."), "success")
        return redirect(url_for("buchung.resource_page", resource_id=entry.resource.root.id))
    return render_template("buchung/waitlist_leave.html", entry=entry, form=form)


@bp.route("/gesendet")
def sent():
    """Tell the guest to confirm the booking with the link we mailed."""
    return render_template("buchung/sent.html", minutes=current_app.config["BUCHUNG_HOLD_MINUTES"])


def booking_by_token(token: str) -> Booking:
    """The booking behind a private link, else 404."""
    booking = db.session.scalar(select(Booking).where(Booking.token == token))
    if booking is None:
        abort(404)
    return booking


@bp.route("/b/<token>")
def booking_page(token: str):
    """The booker's private page: the booking's state, confirm the hold, cancel, calendar file."""
    booking = booking_by_token(token)
    response = make_response(
        render_template(
            "buchung/booking.html",
            booking=booking,
            form=ConfirmForm(),
            can_cancel=can_cancel_as_booker(booking),
            deadline=cancellation_deadline(booking),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/b/<token>/bestaetigen", methods=["POST"])
def confirm(token: str):
    """Confirm a held booking from the e-mail link; too late, and the time is free again."""
    booking = booking_by_token(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    confirmed = confirm_hold(booking)
    db.session.commit()
    enqueue_notices(booking)
    if confirmed:
        flash(_("Danke, Ihre E-Mail-Adresse ist bestätigt."), "success")
    else:
        flash(
            _("Die Reservierung ist abgelaufen, weil sie nicht rechtzeitig bestätigt wurde."),
            "error",
        )
    return redirect(url_for("buchung.booking_page", token=token))


@bp.route("/b/<token>/stornieren", methods=["POST"])
def cancel_by_booker(token: str):
    """Cancel one's own booking until the cancellation deadline; the time is free again."""
    booking = booking_by_token(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not can_cancel_as_booker(booking):
        flash(
            _(
                "Diese Buchung kann nicht mehr online storniert werden. Bitte wenden Sie sich "
                "an das Buchungsbüro: %(contact)s",
                contact=office_contact(booking),
            ),
            "error",
        )
    elif request.form.get("sure") != "1":  # cancelling asks once
        return render_template("buchung/cancel_confirm.html", booking=booking, form=ConfirmForm())
    else:
        cancel(booking)
        offer_freed()
        db.session.commit()
        enqueue_notices()
        flash(_("Die Buchung ist storniert."), "success")
    return redirect(url_for("buchung.booking_page", token=token))


@bp.route("/b/<token>/buchung.ics")
def booking_ics(token: str):
    """The booking as a calendar file."""
    booking = booking_by_token(token)
    response = make_response(booking_calendar(booking))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="buchung.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/fotos/<name>")
def photo(name: str):
    """A resource photo (re-encoded JPEG)."""
    return send_from_directory(photo_dir(), name, max_age=86400)


@bp.app_template_filter("hhmm")
def hhmm_filter(value: datetime | int) -> str:
    """A UTC moment (or minutes after midnight) as local ``HH:MM``."""
    return format_hhmm(value if isinstance(value, int) else minute_of_day(value))


@bp.app_context_processor
def booking_labels() -> dict:
    """German labels of states and kinds for every booking template and mail."""
    return {
        "buchung_status": STATUS_LABELS,
        "buchung_cell": CELL_LABELS,
        "buchung_kind": KIND_LABELS,
        "buchung_group": GROUP_LABELS,
        "hours_text": hours_text,
        "hours_number": hours_number,
        "cancellation_deadline": cancellation_deadline,
        "office_contact": office_contact,
    }
