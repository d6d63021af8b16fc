"""Booking office pages for clubs: approval, and the Belegungsplan as CSV."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from buchung.admin import bp, managed_resource_or_404, managed_resources, office_required
from buchung.club_forms import QuotaForm
from buchung.club_models import Club, ClubQuota
from buchung.forms import ConfirmForm
from buchung.services.plan import plan_csv, week_plan
from buchung.services.quotas import set_quota
from buchung.views import week_arg
from lotse.extensions import db


def _quota_form() -> QuotaForm:
    form = QuotaForm()
    form.resource_id.choices = [
        SelectChoice(r.id, r.name) for r in managed_resources() if r.parent_id is None
    ]
    return form


@bp.route("/vereine")
@office_required
def club_list():
    """Every registered club, those awaiting approval first, with their quotas."""
    clubs = db.session.scalars(
        select(Club).order_by(Club.approved_at.is_not(None), Club.name)
    ).all()
    quotas = db.session.scalars(select(ClubQuota)).all()
    return render_template(
        "buchung/admin/clubs.html",
        clubs=clubs,
        quotas=quotas,
        form=ConfirmForm(),
        quota_form=_quota_form(),
    )


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


@bp.route("/vereine/<int:club_id>/freigeben", methods=["POST"])
@office_required
def approve_club(club_id: int):
    """Approve a club: from now on it may book club-only halls and hold season series."""
    club = db.get_or_404(Club, club_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    club.approve()
    db.session.commit()
    flash(_("Der Verein „%(name)s“ ist freigegeben.", name=club.name), "success")
    return redirect(url_for("buchung_admin.club_list"))


@bp.route("/raeume/<int:resource_id>/belegungsplan.csv")
@office_required
def plan_export(resource_id: int):
    """The week's Belegungsplan with clubs, purposes and contacts, as CSV for the office."""
    resource = managed_resource_or_404(resource_id)
    monday = week_arg()
    return Response(
        plan_csv(week_plan(resource, monday)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="belegung-{resource_id}-{monday}.csv"',
            "Cache-Control": "no-store",
        },
    )
