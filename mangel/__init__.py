"""Mängelmelder: citizens report defects, staff work them."""

from flask import Flask
from flask_babel import lazy_gettext as _l

DEFAULTS = {
    "MANGEL_ALLOW_ANONYMOUS": False,  # True: the e-mail address becomes optional
    "MANGEL_CONFIRM_HOURS": 48,  # confirmation links expire; unconfirmed reports are purged then
    "MANGEL_DESCRIPTION_MAX": 2000,
    "MANGEL_MAX_PHOTOS": 3,
    "MANGEL_PHOTO_MAX_BYTES": 8 * 1024 * 1024,
    "MANGEL_PHOTO_MAX_PIXELS": 40_000_000,
    # Below the core's MAX_CONTENT_LENGTH, so a too large submission still gets its form back.
    "MANGEL_MAX_UPLOAD_BYTES": 20 * 1024 * 1024,
    "MANGEL_REPORT_LIMIT_PER_IP": "20 per hour",
    "MANGEL_REPORT_LIMIT_PER_EMAIL": "5 per hour",
    "MANGEL_SUPPORT_LIMIT_PER_IP": "30 per hour",
    "MANGEL_ADDRESS_LIMIT_PER_IP": "120 per minute",
    "MANGEL_PHOTO_LOCATION_LIMIT_PER_IP": "30 per hour",
    "MANGEL_RESEND_LIMIT_PER_IP": "10 per hour",  # "Mail erneut senden"
    "MANGEL_RESEND_LIMIT_PER_REPORT": "3 per hour",
    "MANGEL_ADDITION_LIMIT_PER_IP": "20 per hour",  # "Ergänzen" and "Zurückziehen"
    "MANGEL_HASH_KEY": None,  # key of the support e-mail hashes; default: SECRET_KEY
    "MANGEL_MAP_MAX_POINTS": 300,
    # Map answers (karte.json) given again for the same widened box and filters, until a
    # committed change of public data (shared through Redis when configured); 0: always built.
    "MANGEL_MAP_CACHE_SECONDS": 60,
    "MANGEL_PAGE_SIZE": 20,
    # Open311 lists answered again from what was built for the same query this long ago
    # (shared through Redis when configured): other systems poll the same pages.
    "OPEN311_CACHE_SECONDS": 15,
    # The public list as rendered for visitors without a session, kept until the next
    # committed change to public reports (shared through Redis; without Redis each process
    # keeps its own, and another process's change shows after at most this long).
    "MANGEL_LIST_CACHE_SECONDS": 15,
    "MANGEL_INBOX_COUNT_LIMIT": 1000,  # the staff inbox counts its selection this far
    # Staff workbench: reminders to the department, contact data kept after closing.
    "MANGEL_REMIND_ACCEPT_DAYS": 3,  # not accepted this many days after arrival
    "MANGEL_REMIND_WORK_DAYS": 14,  # open and untouched this long
    "MANGEL_CONTACT_RETENTION_DAYS": 90,
    "MANGEL_CONTACT_RETENTION_BY_CATEGORY": {},  # category id → days, overrides the default
    # Routing and delivery (mangel.routing.rules, mangel.routing.delivery)
    "MANGEL_FALLBACK_EMAIL": "maengel@musterstadt.example",  # no rule, no category default
    # Reply-To of department mails, e.g. "maengel+{report_id}@musterstadt.example";
    # unset: the fallback inbox.
    "MANGEL_REPLY_TO": None,
    "MANGEL_STAFF_REPORT_PATH": "/verwaltung/maengel/meldungen/{report_id}",
    "MANGEL_DELIVERY_BACKOFF": (5 * 60, 30 * 60),  # seconds after the first, later failures
    "MANGEL_DELIVERY_MAX_ATTEMPTS": 10,  # then "failed" until an admin retries
    "MANGEL_DELIVERY_LEASE_SECONDS": 300,  # a "sending" row older than this is sent again
    "MANGEL_WEBHOOK_TIMEOUT": 10,
    "MANGEL_SWEEP_BATCH": 1000,
    "MANGEL_FOLLOW_UP_WEEKS": 4,
    "MANGEL_ALERT_DIGEST_HOUR": 7,
    "MANGEL_TARGET_DAYS": 14,  # "So arbeiten wir": finished within this many days
    "MANGEL_OPEN_DATA_LICENSE": {
        "name": "Datenlizenz Deutschland – Namensnennung – Version 2.0",
        "url": "https://www.govdata.de/dl-de/by-2-0",
    },  # local hour from which the daily alert digests go out  # "Ist es behoben?" this long after closing
}


PUBLIC_GENERATION = "mangel.public"  # see lotse.cache.generation


def init_app(app: Flask) -> None:
    from lotse.cache import watch, watch_rows
    from lotse.hooks import (
        register_error_renderer,
        register_seeder,
        register_staff_link,
        register_sweep,
    )
    from mangel import (  # noqa: F401 - routes
        admin,
        cli,
        confirmation,
        figures,
        follow_up,
        public_list,
        reporter,
        submit,
        views,
    )
    from mangel.alerts import views as alert_views  # noqa: F401 - routes register
    from mangel.alerts.services import send_digests
    from mangel.demo import seed_demo
    from mangel.models import Category, Report, ReportPhoto, StatusChange, Support

    # What the public list and Open311 show: answers kept for them follow these rows.
    watch(PUBLIC_GENERATION, Report, Category, ReportPhoto, StatusChange, Support)
    # The map's answers follow the regions a report is written in (mangel.mapdata).
    from mangel.mapdata import MAP_GENERATION, report_regions

    watch(MAP_GENERATION, Category)
    watch_rows(Report, report_regions, MAP_GENERATION)
    from mangel.jobs import sweep
    from mangel.open311 import apikeys  # noqa: F401
    from mangel.open311 import submit as open311_submit  # noqa: F401
    from mangel.open311 import views as open311
    from mangel.retention import remind
    from mangel.routing import admin as areas  # noqa: F401
    from mangel.routing import cli as routing_cli  # noqa: F401
    from mangel.routing import (
        delivery_admin,
        roads_admin,  # noqa: F401
        webhooks_admin,  # noqa: F401 - routes register
    )
    from mangel.routing import rules as routing  # noqa: F401 - signal receivers
    from mangel.routing.delivery import sweep as delivery_sweep
    from mangel.workbench import (  # noqa: F401 - routes register
        actions,
        bulk,
        dossier,
        followers,
        intake,
        response_templates,
        stats,
    )
    from mangel.workbench import views as workbench

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(workbench.bp)
    app.register_blueprint(open311.bp)
    app.register_blueprint(open311.root_bp)
    register_error_renderer(app, open311.bp.url_prefix, open311.http_error)
    app.register_blueprint(apikeys.bp)
    register_seeder(app, seed_demo)
    register_sweep(app, sweep)
    register_sweep(app, remind)
    register_sweep(app, send_digests)
    register_staff_link(app, _l("Mängelmelder: Meldungen"), "mangel_workbench.inbox", "clerk")
    register_staff_link(app, _l("Mängelmelder: Statistik"), "mangel_workbench.stats", "clerk")
    register_staff_link(
        app, _l("Mängelmelder: Meldung erfassen"), "mangel_workbench.intake_start", "clerk"
    )
    register_staff_link(
        app, _l("Mängelmelder: Textbausteine"), "mangel_workbench.response_templates", "admin"
    )
    register_staff_link(app, _l("Mängelmelder: Kategorien"), "mangel_admin.category_list", "admin")
    register_staff_link(app, _l("Open311: API-Schlüssel"), "mangel_apikeys.key_list", "admin")
    register_sweep(app, delivery_sweep)
    register_sweep(app, delivery_admin.daily_summary)
    register_staff_link(app, _l("Mängelmelder: Zustellungen"), "mangel_admin.deliveries", "admin")
    register_staff_link(app, _l("Mängelmelder: Webhooks"), "mangel_admin.webhooks", "admin")
    register_staff_link(
        app, _l("Mängelmelder: Zuständigkeit"), "mangel_admin.responsibility", "admin"
    )
