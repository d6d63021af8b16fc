"""Staff pages for clubs: approval, quotas, Belegungsplan CSV, "nicht genutzt", usage rate."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from buchung.admin import (
    bp,
    managed_booking_or_404,
    managed_resource_or_404,
    managed_resources,
    office_required,
)
from buchung.clock import local_moment, local_today, to_local
from buchung.club_forms import CopyQuotasForm, MemberCountForm, QuotaForm, SeasonQuotaForm
from buchung.club_models import Club, ClubQuota, Season
from buchung.exports import csv_download
from buchung.forms import ConfirmForm, ReasonForm
from buchung.services.availability import bookings_between
from buchung.services.notices import mail_club_decision
from buchung.services.plan import plan_csv, week_plan
from buchung.services.quotas import copy_quotas, set_quota
from buchung.services.seasons import all_seasons, season_for
from buchung.services.usage import mark_unused, unmark_unused, usage_rates
from buchung.views import week_arg
from lotse.auth import roles_required
from lotse.csvutil import csv_text
from lotse.extensions import db
from lotse.models import utcnow


def _quota_form() -> QuotaForm:
    form = QuotaForm()
    form.resource_id.choices = [
        SelectChoice(r.id, r.name) for r in managed_resources() if r.parent_id is None
    ]
    return form


def _member_form(club: Club) -> MemberCountForm:
    """The member count form of one club's row; its own prefix keeps rows apart."""
    return MemberCountForm(prefix=f"club-{club.id}", data={"member_count": club.member_count})


def _club_list_page(invalid: MemberCountForm | None = None, club_id: int | None = None):
    clubs = db.session.scalars(
        select(Club)
        .order_by(Club.approved_at.is_not(None), Club.name)
        .options(selectinload(Club.members))
    ).all()
    quotas = db.session.scalars(
        select(ClubQuota)
        .outerjoin(Season)
        .order_by(Season.first_day.is_not(None), Season.first_day)
    ).all()
    member_forms = {c.id: _member_form(c) for c in clubs}
    if invalid is not None:
        member_forms[club_id] = invalid
    return render_template(
        "buchung/admin/clubs.html",
        clubs=clubs,
        quotas=quotas,
        form=ConfirmForm(),
        reject_form=ReasonForm(prefix="reject"),
        quota_form=_quota_form(),
        member_forms=member_forms,
    ), (200 if invalid is None else 422)


@bp.route("/vereine")
@office_required
def club_list():
    """Every registered club, those awaiting approval first, with member counts and quotas."""
    return _club_list_page()


@bp.route("/vereine/<int:club_id>/mitglieder", methods=["POST"])
@office_required
def club_member_count(club_id: int):
    """Enter a club's member count (rounds may weigh turns by it); the date is kept."""
    club = db.get_or_404(Club, club_id)
    form = _member_form(club)
    if not form.validate_on_submit():
        return _club_list_page(form, club.id)
    club.set_member_count(form.member_count.data)
    db.session.commit()
    flash(
        _(
            "Die Mitgliederzahl von „%(name)s“ ist gespeichert: %(count)s.",
            name=club.name,
            count=club.member_count,
        ),
        "success",
    )
    return redirect(url_for("buchung_admin.club_list", _anchor=f"club-{club.id}"))


@bp.route("/vereine/<int:club_id>/kontingent", methods=["POST"])
@office_required
def club_quota(club_id: int):
    """Set or remove a club's weekly hours in one of the office's halls."""
    club = db.get_or_404(Club, club_id)
    form = _quota_form()
    if not form.validate_on_submit():
        flash(_("Bitte geben Sie eine Stundenzahl von 0 bis 168 an."), "error")
    else:
        hall = managed_resource_or_404(form.resource_id.data)
        set_quota(club, hall, None if form.hours.data is None else float(form.hours.data))
        db.session.commit()
        flash(_("Das Kontingent ist gespeichert."), "success")
    return redirect(url_for("buchung_admin.club_list"))


def _quota_season() -> Season | None:
    """The season of the quota page (``?saison=``); none: the default quotas."""
    season_id = request.args.get("saison", type=int)
    return db.get_or_404(Season, season_id) if season_id else None


def _season_quota_forms(season: Season | None) -> tuple[SeasonQuotaForm, CopyQuotasForm]:
    form = SeasonQuotaForm(prefix="quota")
    form.resource_id.choices = _quota_form().resource_id.choices
    form.club_id.choices = [
        SelectChoice(c.id, c.name)
        for c in db.session.scalars(
            select(Club).where(Club.approved_at.is_not(None)).order_by(Club.name)
        )
    ]
    copy_form = CopyQuotasForm(prefix="copy")
    copy_form.source_id.choices = [
        SelectChoice(s.id, s.name) for s in all_seasons() if season is None or s.id != season.id
    ]
    return form, copy_form


def _quota_page(season: Season | None, form=None, copy_form=None, status: int = 200):
    new_form, new_copy_form = _season_quota_forms(season)
    hall_ids = [r.id for r in managed_resources() if r.parent_id is None]
    query = select(ClubQuota).join(Club).where(ClubQuota.resource_id.in_(hall_ids))
    query = query.where(
        ClubQuota.season_id.is_(None) if season is None else ClubQuota.season_id == season.id
    )
    quotas = db.session.scalars(query.order_by(Club.name, ClubQuota.resource_id)).all()
    return (
        render_template(
            "buchung/admin/quotas.html",
            season=season,
            title=_("Kontingente %(season)s", season=season.name)
            if season
            else _("Standardkontingente"),
            seasons=all_seasons(),
            quotas=quotas,
            form=form or new_form,
            copy_form=copy_form or new_copy_form,
        ),
        status,
    )


@bp.route("/vereine/kontingente", methods=["GET", "POST"])
@office_required
def quotas():
    """The weekly quotas of one season (or the default ones), to set one by one."""
    season = _quota_season()
    if request.method == "GET":
        return _quota_page(season)
    form, _copy = _season_quota_forms(season)
    if not form.validate_on_submit():
        return _quota_page(season, form=form, status=422)
    club = db.get_or_404(Club, form.club_id.data)
    hall = managed_resource_or_404(form.resource_id.data)
    set_quota(club, hall, None if form.hours.data is None else float(form.hours.data), season)
    db.session.commit()
    flash(_("Das Kontingent ist gespeichert."), "success")
    return redirect(url_for("buchung_admin.quotas", saison=season.id if season else None))


@bp.route("/vereine/kontingente/uebernehmen", methods=["POST"])
@office_required
def copy_season_quotas():
    """Copy another season's quotas into this one; differing ones only when confirmed."""
    season = _quota_season()
    if season is None:
        abort(404)
    form, copy_form = _season_quota_forms(season)
    if not copy_form.validate_on_submit():
        return _quota_page(season, copy_form=copy_form, status=422)
    source = db.get_or_404(Season, copy_form.source_id.data)
    hall_ids = [r.id for r in managed_resources() if r.parent_id is None]
    copied, differing = copy_quotas(source, season, hall_ids, overwrite=copy_form.overwrite.data)
    if differing:  # nothing was written
        names = ", ".join(f"{q.club.name} ({q.resource.name})" for q in differing)
        copy_form.overwrite.errors = [
            _(
                "Nichts übernommen: %(season)s hat schon abweichende Kontingente (%(names)s). "
                "Zum Überschreiben bitte bestätigen.",
                season=season.name,
                names=names,
            )
        ]
        return _quota_page(season, copy_form=copy_form, status=409)
    db.session.commit()
    flash(
        ngettext(
            "%(num)d Kontingent aus %(source)s übernommen.",
            "%(num)d Kontingente aus %(source)s übernommen.",
            copied,
            source=source.name,
        ),
        "success",
    )
    return redirect(url_for("buchung_admin.quotas", saison=season.id))


@bp.route("/vereine/<int:club_id>/freigeben", methods=["POST"])
@office_required
def approve_club(club_id: int):
    """Approve a club: from now on it may book club-only halls and hold season series."""
    club = db.get_or_404(Club, club_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not club.approved:
        club.approve()
        mail_club_decision(club, approved=True)
    db.session.commit()
    flash(_("Der Verein „%(name)s“ ist freigegeben.", name=club.name), "success")
    return redirect(url_for("buchung_admin.club_list"))


@bp.route("/vereine/<int:club_id>/ablehnen", methods=["POST"])
@office_required
def reject_club(club_id: int):
    """Reject a club's registration with a reason: the club is told, its logins are deleted."""
    club = db.get_or_404(Club, club_id)
    form = ReasonForm(prefix="reject")
    if club.approved:
        flash(_("Ein freigegebener Verein kann nicht abgelehnt werden."), "error")
    elif not form.validate_on_submit():
        flash(_("Bitte geben Sie eine Begründung an."), "error")
    else:
        mail_club_decision(club, approved=False, reason=form.reason.data.strip())
        for member in club.members:
            db.session.delete(member)
        db.session.delete(club)
        db.session.commit()
        flash(_("Die Anmeldung von „%(name)s“ ist abgelehnt.", name=club.name), "success")
    return redirect(url_for("buchung_admin.club_list"))


@bp.route("/raeume/<int:resource_id>/belegungsplan.csv")
@office_required
def plan_export(resource_id: int):
    """The week's Belegungsplan with clubs, purposes and contacts, as CSV for the office."""
    resource = managed_resource_or_404(resource_id)
    monday = week_arg()
    return csv_download(
        plan_csv(week_plan(resource, monday)), f"belegung-{resource_id}-{monday}.csv"
    )


@bp.route("/hausmeisterei")
@roles_required("caretaker", "booking_office")
def caretaker_day():
    """The caretaker's day: club bookings of the managed halls, to mark "nicht genutzt"."""
    day = day_arg()
    start = local_moment(day, 0)
    bookings = [
        b
        for b in bookings_between(
            [r for r in managed_resources() if r.parent_id is None],
            start,
            start + timedelta(days=1),
        )
        if b.club_id is not None
    ]
    return render_template(
        "buchung/admin/caretaker.html",
        day=day,
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        today=local_today(),
        bookings=bookings,
        form=ConfirmForm(),
        now=utcnow(),
    )


@bp.route("/termin/<int:booking_id>/nicht-genutzt", methods=["POST"])
@roles_required("caretaker", "booking_office")
def mark_unused_view(booking_id: int):
    """Record that a club did not use its hall time."""
    booking = managed_booking_or_404(booking_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if mark_unused(booking):
        db.session.commit()
        flash(_("Als „nicht genutzt“ vermerkt."), "success")
    else:
        flash(_("Nur begonnene, bestätigte Vereinstermine können so vermerkt werden."), "error")
    day = to_local(booking.starts_at).date().isoformat()
    return redirect(url_for("buchung_admin.caretaker_day", tag=day))


@bp.route("/termin/<int:booking_id>/genutzt", methods=["POST"])
@roles_required("caretaker", "booking_office")
def unmark_unused_view(booking_id: int):
    """Undo "nicht genutzt": the club was there after all (or the wrong row was pressed)."""
    booking = managed_booking_or_404(booking_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if unmark_unused(booking):
        db.session.commit()
        flash(
            _(
                "Rückgängig gemacht: %(club)s %(time)s gilt wieder als genutzt.",
                club=booking.club.name,
                time=f"{to_local(booking.starts_at):%H:%M}",
            ),
            "success",
        )
    day = to_local(booking.starts_at).date().isoformat()
    return redirect(url_for("buchung_admin.caretaker_day", tag=day))


def _usage_period() -> tuple[Season | None, date, date]:
    """The season (default: the running one) or the two days the usage pages are asked for."""
    today = local_today()
    season_id = request.args.get("saison", type=int)
    if season_id:
        season = db.get_or_404(Season, season_id)
    elif season_id is None and "von" not in request.args and "bis" not in request.args:
        season = season_for(today)
    else:
        season = None
    if season is not None:
        return season, season.first_day, season.last_day
    return None, day_arg("von", today - timedelta(days=365)), day_arg("bis", today)


@bp.route("/nutzung")
@office_required
def usage():
    """Usage rate per club in a season (default: the running one) or between two days."""
    season, first, last = _usage_period()
    rates = usage_rates(local_moment(first, 0), local_moment(last, 1440))
    return render_template(
        "buchung/admin/usage.html",
        rates=rates,
        first=first,
        last=last,
        season=season,
        seasons=all_seasons(),
    )


@bp.route("/nutzung.csv")
@office_required
def usage_export():
    """The usage rates of the same period as a spreadsheet (Excel reads it as it is)."""
    season, first, last = _usage_period()
    rates = usage_rates(local_moment(first, 0), local_moment(last, 1440))
    header = [
        _("Verein"),
        _("Termine"),
        _("nicht genutzt"),
        _("Nutzungsquote (Prozent)"),
        _("Zeitraum"),
    ]
    period = season.name if season else f"{first:%d.%m.%Y}–{last:%d.%m.%Y}"
    rows = [
        [u.club.name, u.held, u.unused, format_decimal(u.rate * 100, format="0.#"), period]
        for u in rates
    ]
    return csv_download(csv_text(header, rows), f"nutzung-{first}-{last}.csv")


def day_arg(name: str = "tag", default: date | None = None) -> date:
    """A date from the query string, else ``default`` (today)."""
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default or local_today()
