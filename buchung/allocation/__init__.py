"""Saisonvergabe: the booking office hands out its halls for a season in one round.

See ``buchung.allocation.models`` for the data, ``proposal`` for the allocation
algorithm, ``publishing`` for turning allocations into series, ``views`` (applicants)
and ``admin`` (office) for the pages.
"""

from flask import Flask
from flask_babel import lazy_gettext as _l

from lotse.hooks import register_seeder, register_staff_link, register_sweep


def init_app(app: Flask) -> None:
    """Register the allocation pages, demo data, the result-mail sweep and the staff link."""
    from buchung.allocation import admin, demo, jobs, models, views  # noqa: F401 - routes, tables

    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    register_seeder(app, demo.seed)
    register_sweep(app, jobs.sweep)
    register_staff_link(
        app, _l("Saisonvergabe"), "buchung_allocation_admin.rounds", "booking_office"
    )
