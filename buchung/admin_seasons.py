"""Booking office pages for seasons: the date ranges clubs plan their series in."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from buchung.admin import bp, office_required
from buchung.club_forms import SeasonForm
from buchung.club_models import Season
from buchung.forms import ConfirmForm
from buchung.services.seasons import all_seasons, name_taken, series_counts
from lotse.extensions import db


@bp.route("/saisons")
@office_required
def season_list():
    """Every season with its dates and how many club series it holds."""
    return render_template(
        "buchung/admin/seasons.html", seasons=all_seasons(), counts=series_counts()
    )


@bp.route("/saisons/neu", methods=["GET", "POST"])
@bp.route("/saisons/<int:season_id>", methods=["GET", "POST"])
@office_required
def season_edit(season_id: int | None = None):
    """Create a season or change its name and dates (series keep the dates they were booked for)."""
    season = db.get_or_404(Season, season_id) if season_id else None
    form = SeasonForm(obj=season)
    if form.validate_on_submit():
        name = form.name.data.strip()
        if name_taken(name, season):
            form.name.errors.append(_("Eine Saison mit diesem Namen gibt es schon."))
        else:
            if season is None:
                season = Season()
                db.session.add(season)
            season.name = name
            season.first_day, season.last_day = form.first_day.data, form.last_day.data
            db.session.commit()
            flash(_("Die Saison „%(name)s“ ist gespeichert.", name=name), "success")
            return redirect(url_for("buchung_admin.season_list"))
    return render_template(
        "buchung/admin/season_edit.html", form=form, season=season, delete_form=ConfirmForm()
    )


@bp.route("/saisons/<int:season_id>/loeschen", methods=["POST"])
@office_required
def season_delete(season_id: int):
    """Remove a season; its series stay booked, only without the season's name."""
    season = db.get_or_404(Season, season_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = season.name
    db.session.delete(season)
    try:
        db.session.commit()
    except IntegrityError:  # still referenced elsewhere (e.g. an allocation round)
        db.session.rollback()
        flash(_("Die Saison „%(name)s“ wird noch verwendet.", name=name), "error")
        return redirect(url_for("buchung_admin.season_edit", season_id=season_id))
    flash(_("Die Saison „%(name)s“ ist gelöscht.", name=name), "success")
    return redirect(url_for("buchung_admin.season_list"))
