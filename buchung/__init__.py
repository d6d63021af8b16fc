"""Buchung: halls and rooms booked by clubs and citizens."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from lotse.hooks import register_seeder, register_staff_link, register_sweep

DEFAULTS = {
    "BUCHUNG_HOLD_MINUTES": 30,  # a guest's booking holds its slot this long unconfirmed
    "BUCHUNG_CANCEL_HOURS": 24,  # bookers may cancel online until this long before the start
    "BUCHUNG_CLOSED_ON_HOLIDAYS": True,  # public holidays of TOWN_STATE close every resource
    "BUCHUNG_LIMIT_PER_IP": "30 per 10 minutes",  # booking attempts per visitor
    "BUCHUNG_PHOTO_DIR": None,  # default: instance/buchung-fotos
    "BUCHUNG_PHOTO_MAX_PX": 1600,
    "BUCHUNG_CLUB_HORIZON_DAYS": 400,  # approved clubs plan a whole season ahead
    "BUCHUNG_PUBLIC_CLUB_NAMES": False,  # public plan and feed name the club, not just "belegt"
    # Per department name, the booking office's phone number told to bookers past the
    # online cancellation deadline (with the department's e-mail address).
    "BUCHUNG_OFFICE_PHONES": {},
    "BUCHUNG_OFFER_MINUTES": 720,  # a freed time is held this long for the first in line
    # Week view and Belegungsplan kept this long for visitors without a session, renewed at
    # once by a committed write (buchung.kept; 0: off).  Without Redis each process keeps
    # its own and hears only of its own writes: another may show the old page that long.
    "BUCHUNG_PAGE_CACHE_SECONDS": 60,
}


def init_app(app: Flask) -> None:
    """Plug the booking service into the app: config defaults, pages, demo data, sweep, staff link."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)

    from buchung import (  # noqa: F401 - routes, commands
        admin,
        admin_clubs,
        admin_decisions,
        admin_import,
        admin_resources,
        admin_seasons,
        cli,
        club_accounts,
        club_views,
        demo,
        feeds,
        jobs,
        views,
    )
    from buchung.services.clubs import load_member
    from lotse.auth import ACCOUNT_LOADERS

    ACCOUNT_LOADERS["club"] = load_member
    _watch_public_pages()
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(club_views.bp)
    app.register_blueprint(feeds.bp)
    register_seeder(app, demo.seed)
    register_sweep(app, jobs.sweep)
    register_staff_link(
        app, _l("Hallen- und Raumbuchung"), "buchung_admin.dashboard", "booking_office"
    )
    register_staff_link(
        app, _l("Hausmeisterei: Vereinstermine"), "buchung_admin.caretaker_day", "caretaker"
    )
    register_staff_link(
        app,
        _l("Buchungs-API: Schlüssel für Partner"),
        "buchung_api_keys.key_list",
        "booking_office",
    )
    from buchung import allocation, api, fees

    allocation.init_app(app)
    api.init_app(app)
    fees.init_app(app)


def _watch_public_pages() -> None:
    """Everything the public week view and Belegungsplan show (``buchung.kept``): a
    committed write of any of these renews the kept pages."""
    from buchung.club_models import BookingSeries, Club, Season
    from buchung.fees.models import FeeGroup, FeeSchedule, Tariff
    from buchung.kept import GENERATION
    from buchung.models import (
        Booking,
        BookingSlot,
        Closure,
        OpeningHours,
        Resource,
        ResourcePhoto,
    )
    from lotse.cache import watch

    watch(
        GENERATION,
        Resource,
        OpeningHours,
        ResourcePhoto,
        Closure,
        Booking,
        BookingSlot,
        BookingSeries,
        Season,
        Club,
        FeeSchedule,
        Tariff,
        FeeGroup,
    )
