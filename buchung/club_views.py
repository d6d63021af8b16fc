"""Club pages: registration with e-mail confirmation, login, season series, cancelling."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from buchung.clock import local_moment, local_today, to_local
from buchung.club_forms import ClubLoginForm, ClubRegistrationForm, PublicNameForm, SeriesForm
from buchung.club_models import BookingSeries, Club
from buchung.fees.pricing import record_options
from buchung.forms import (
    ConfirmForm,
    TimeRangeForm,
    attach_violations,
    offered_formdata,
    prefill_times,
)
from buchung.ics import series_calendar
from buchung.jobs import enqueue_notices, queue_club_already_registered, queue_club_confirmation
from buchung.models import Booking, BookingStatus, Resource
from buchung.services import series as series_service
from buchung.services.alternatives import alternatives, own_dates_only
from buchung.services.booking import BookingRefused, SlotTaken, cancel, notify
from buchung.services.clubs import member_by_email, member_from_token, register_club
from buchung.services.notices import mail_club_dates, mail_club_registered, mail_office_series
from buchung.services.seasons import open_seasons
from buchung.services.waitlist import offer_freed
from lotse.auth import login_account_key, login_failed, password_matches, start_session
from lotse.extensions import db, limiter
from lotse.models import normalise_email, utcnow
from lotse.urls import public_url

bp = Blueprint("buchung_club", __name__, url_prefix="/buchung/verein")

RELEASED = "fällt aus"
FEED_LINK_KEY = "buchung_club_feed_link"
PLANNED_LABELS = {
    "free": _l("frei"),
    "conflict": _l("belegt"),
    "closed": _l("geschlossen"),
    "refused": _l("nicht möglich"),
}


@bp.context_processor
def club_context() -> dict:
    """Labels of planned dates, and the moment that decides what may still be released."""
    return {"planned_labels": PLANNED_LABELS, "now": utcnow()}


def club_required(view):
    """Only a logged-in club login; others are sent to the club login page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not getattr(current_user, "is_club", False):
            return redirect(url_for("buchung_club.login"))
        return view(*args, **kwargs)

    return wrapped


def current_club() -> Club:
    return current_user.club


@bp.route("/registrieren", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["BUCHUNG_LIMIT_PER_IP"], methods=["POST"])
def register():
    """Register a club and its first login; the e-mail address is confirmed by link."""
    form = ClubRegistrationForm()
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        known = member_by_email(email)
        if known is not None:
            # The page says the same as for a new address; the mail tells the owner.
            queue_club_already_registered(known)
            db.session.commit()
        else:
            member = register_club(
                form.club_name.data.strip(),
                form.register_number.data.strip(),
                form.contact_persons.data.strip(),
                form.name.data.strip(),
                email,
                form.password.data,
            )
            mail_club_registered(member)
            queue_club_confirmation(member)
            db.session.commit()
        return render_template("buchung/club/registered.html", email=email)
    return render_template("buchung/club/register.html", form=form)


@bp.route("/bestaetigen/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """Confirm a club login's e-mail address from the mailed link (a button, then POST)."""
    member = member_from_token(token)
    if member is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        member.confirmed_at = member.confirmed_at or utcnow()
        db.session.commit()
        flash(
            _("Danke, Ihre E-Mail-Adresse ist bestätigt. Sie können sich jetzt anmelden."),
            "success",
        )
        return redirect(url_for("buchung_club.login"))
    return render_template("buchung/club/confirm.html", form=form, member=member)


@bp.route("/anmelden", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=login_account_key("club"),
    methods=["POST"],
    deduct_when=login_failed,
)
def login():
    """Club login with e-mail and password (unconfirmed addresses cannot log in)."""
    form = ClubLoginForm()
    status = 200
    if form.validate_on_submit():
        member = member_by_email(form.email.data)
        if password_matches(member, form.password.data) and member.is_active:
            start_session(member)
            return redirect(url_for("buchung_club.home"))
        form.password.errors.append(
            _(
                "E-Mail-Adresse oder Passwort ist falsch, oder die E-Mail-Adresse ist nicht bestätigt."
            )
        )
        status = 401
    return render_template("buchung/club/login.html", form=form), status


@bp.route("/")
@club_required
def home():
    """The club's page: approval state, series, the coming eight weeks, calendar link."""
    club = current_club()
    start = local_moment(local_today(), 0)
    feed_url = session.pop(FEED_LINK_KEY, None)
    response = make_response(
        render_template(
            "buchung/club/home.html",
            club=club,
            series_list=db.session.scalars(
                select(BookingSeries)
                .where(BookingSeries.club_id == club.id)
                .order_by(BookingSeries.first_day)
            ).all(),
            bookings=series_service.club_bookings(club, start, start + timedelta(weeks=8)),
            form=ConfirmForm(),
            public_form=PublicNameForm(name_public=club.name_public),
            feed_url=feed_url,
            webcal_url=feed_url and "webcal://" + feed_url.split("://", 1)[1],
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/oeffentlich", methods=["POST"])
@club_required
def public_name():
    """The club agrees (or no longer) to be named on the public plan instead of "belegt"."""
    form = PublicNameForm()
    if not form.validate_on_submit():
        abort(400)
    club = current_club()
    club.name_public = form.name_public.data
    db.session.commit()
    if club.name_public:
        flash(_("Der öffentliche Belegungsplan zeigt jetzt Ihren Vereinsnamen."), "success")
    else:
        flash(_("Der öffentliche Belegungsplan zeigt Ihre Termine als „belegt“."), "success")
    return redirect(url_for(".home"))


@bp.route("/serie/neu", methods=["GET", "POST"])
@club_required
def series_new():
    """Plan a season series: check every date first, then book the free ones (or none)."""
    club = current_club()
    form = SeriesForm()
    form.resource_id.choices = [
        SelectChoice(r.id, f"{r.parent.name}: {r.name}" if r.parent else r.name)
        for r in series_service.bookable_for_clubs()
    ]
    form.set_seasons(open_seasons(local_today()))
    planned = None
    if form.validate_on_submit():
        series = BookingSeries(
            club=club,
            resource=db.session.get(Resource, form.resource_id.data),
            weekdays=",".join(str(d) for d in sorted(form.weekdays.data)),
            start_minute=form.start.data.hour * 60 + form.start.data.minute,
            end_minute=form.end.data.hour * 60 + form.end.data.minute,
            every_weeks=form.every_weeks.data,
            first_day=form.first_day.data,
            last_day=form.last_day.data,
            purpose=form.purpose.data.strip(),
            season=form.season,
        )
        if form.book_free.data:
            planned = series_service.book_free(series)
            booked = [item.booking for item in planned if item.booking is not None]
            if booked:
                record_options(booked, form.youth.data, form.cleaning.data)
                mail_club_dates(club, booked, "series")
                if requested := [b for b in booked if b.status == BookingStatus.REQUESTED]:
                    mail_office_series(club, requested)
                db.session.commit()
                flash(_("%(count)s Termine sind gebucht.", count=len(booked)), "success")
                return redirect(url_for("buchung_club.series_page", series_id=series.id))
            db.session.rollback()
            flash(_("Kein Termin war frei; es wurde nichts gebucht."), "error")
        else:
            planned = series_service.preview(series)
    return render_template("buchung/club/series_new.html", form=form, planned=planned)


def own_series(series_id: int) -> BookingSeries:
    series = db.get_or_404(BookingSeries, series_id)
    if series.club_id != current_club().id:
        abort(404)
    return series


@bp.route("/serie/<int:series_id>")
@club_required
def series_page(series_id: int):
    """One series with every occurrence and its state."""
    series = own_series(series_id)
    return render_template(
        "buchung/club/series.html",
        series=series,
        bookings=series_service.occurrences(series),
        form=ConfirmForm(),
    )


@bp.route("/serie/<int:series_id>/termine.ics")
@club_required
def series_ics(series_id: int):
    """The series' booked dates as a calendar file (cancelled ones left out)."""
    series = own_series(series_id)
    bookings = [b for b in series_service.occurrences(series) if b.is_active]
    response = make_response(series_calendar(bookings))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="serie.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/termin/<int:booking_id>/faellt-aus", methods=["POST"])
@club_required
def release(booking_id: int):
    """ "Fällt aus — Halle frei": the club releases one training; others may book the time."""
    booking = own_occurrence(booking_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if booking.is_active and booking.starts_at > utcnow():
        cancel(booking, RELEASED)
        offer_freed()
        db.session.commit()
        enqueue_notices()
        flash(_("Der Termin fällt aus; die Halle ist für andere frei."), "success")
    if booking.series_id:
        return redirect(url_for("buchung_club.series_page", series_id=booking.series_id))
    return redirect(url_for("buchung_club.home"))


def own_occurrence(booking_id: int) -> Booking:
    booking = db.get_or_404(Booking, booking_id)
    if booking.club_id != current_club().id:
        abort(404)
    return booking


@bp.route("/termin/<int:booking_id>/verschieben", methods=["GET", "POST"])
@club_required
def move(booking_id: int):
    """Move a single coming occurrence to another day or time, if that is free."""
    booking = own_occurrence(booking_id)
    if not booking.is_active or booking.starts_at <= utcnow():
        abort(404)
    if request.method == "GET":
        form = TimeRangeForm(
            data={
                "day": to_local(booking.starts_at).date(),
                "start": to_local(booking.starts_at).time(),
                "end": to_local(booking.ends_at).time(),
            }
        )
        prefill_times(form, booking.resource)
    elif (offered := offered_formdata()) is not None:
        form = TimeRangeForm(formdata=offered)
    else:
        form = TimeRangeForm()
    extra_errors: list[str] = []
    offers = None
    if form.validate_on_submit() and (moments := form.moments()):
        try:
            series_service.move(booking, *moments)
            notify(booking, "moved")
            db.session.commit()
        except BookingRefused as refused:
            db.session.rollback()
            offers = alternatives(booking.resource, *moments, club=booking.club, moving=booking)
            taken = isinstance(refused, SlotTaken)
            # The club's own training is no "taken" time: say which one it is instead.
            own = taken and own_dates_only(booking.resource, *moments, booking.club, booking)
            extra_errors = attach_violations(
                form, [] if own else refused.violations, blocked=offers.blocked if taken else None
            )
        else:
            enqueue_notices(booking)
            flash(_("Der Termin ist verschoben."), "success")
            return redirect(url_for("buchung_club.home"))
    return render_template(
        "buchung/club/move.html",
        form=form,
        booking=booking,
        extra_errors=extra_errors,
        offers=offers,
    )


@bp.route("/serie/<int:series_id>/absagen", methods=["POST"])
@club_required
def cancel_rest(series_id: int):
    """Cancel every coming occurrence of a series."""
    series = own_series(series_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    cancelled = series_service.cancel_rest(series, RELEASED)
    db.session.flush()
    mail_club_dates(series.club, cancelled, "cancelled")
    offer_freed()
    db.session.commit()
    enqueue_notices()
    flash(_("%(count)s kommende Termine sind abgesagt.", count=len(cancelled)), "success")
    return redirect(url_for("buchung_club.series_page", series_id=series.id))


@bp.route("/kalender-link", methods=["POST"])
@club_required
def new_feed_link():
    """Make a new secret calendar link for the club; the old one stops working."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    token = current_club().new_feed_token()
    db.session.commit()
    # Only the hash is stored: the link is shown once, on the page the redirect leads to.
    session[FEED_LINK_KEY] = public_url("buchung_feeds.club_feed", token=token)
    flash(_("Ihr neuer Kalender-Link ist erzeugt; der alte gilt nicht mehr."), "success")
    return redirect(url_for("buchung_club.home") + "#kalender-abo")
