"""Calendar subscription URLs: a resource's public occupancy, a club's own bookings."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, make_response
from sqlalchemy import select

from buchung.clock import local_moment, local_today
from buchung.club_models import Club, token_hash
from buchung.ics import club_feed as club_calendar
from buchung.ics import resource_feed
from buchung.services.availability import bookings_between
from buchung.services.series import club_bookings
from buchung.views import get_resource_or_404
from lotse.extensions import db

bp = Blueprint("buchung_feeds", __name__, url_prefix="/buchung/kalender")

PAST = timedelta(days=30)
AHEAD = timedelta(days=400)


def _window():
    today = local_moment(local_today(), 0)
    return today - PAST, today + AHEAD


def _ics(body: bytes, cache: str):
    response = make_response(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = cache
    return response


@bp.route("/raum/<int:resource_id>.ics")
def resource(resource_id: int):
    """Subscribe to when a hall or room is taken (no names of persons, ever)."""
    found = get_resource_or_404(resource_id)
    return _ics(resource_feed(found.name, bookings_between([found], *_window())), "max-age=900")


@bp.route("/verein/<token>.ics")
def club_feed(token: str):
    """A club's bookings behind its secret link; a revoked link is 404."""
    club = db.session.scalar(select(Club).where(Club.feed_token_hash == token_hash(token)))
    if club is None:
        abort(404)
    response = _ics(club_calendar(club.name, club_bookings(club, *_window())), "no-store")
    response.headers["X-Robots-Tag"] = "noindex"
    return response
