"""The public week view and Belegungsplan kept for visitors without a session.

Such a visitor sees no login, no flash and no form token, so the page is the same for every
one of them.  It is kept (``lotse.cache.cached_for``, shared by all workers through Redis)
under the generation ``GENERATION``: any committed write of what these pages show — bookings
and their slots, series, closures, resources, parts, opening hours, photos, seasons, clubs,
fees — makes the next request build afresh, so nobody is shown a booked time as free.

The key holds everything else the page depends on: the path and query string exactly as
asked (the language switch in the header carries them back), the language, the time (a
cell whose start has passed reads "vergangen", the plan prints "Stand: … HH:mm") and the
configuration the pages read.  Pages with other query arguments are built every time.
``BUCHUNG_PAGE_CACHE_SECONDS`` (0: off) bounds how long a page is kept.

The answer tells browsers and proxies to ask again each time (``no-cache``): the ETag makes
that a ``304`` without a body, and nobody is shown availability a proxy kept.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

from flask import Response, current_app, request, session
from flask_babel import get_locale

from buchung.clock import to_local
from buchung.models import SLOT_MINUTES
from lotse.cache import cached_page_for
from lotse.models import utcnow
from lotse.requestcost import without_session

GENERATION = "buchung.availability"
QUERY_ARGS = frozenset(("ab", "woche"))  # what the two pages read from the query string
MAX_QUERY = 40  # longer query strings are nobody's link: built, not kept
CONFIG = (  # what the pages read from the configuration
    "TOWN_NAME",
    "TOWN_STATE",
    "TIMEZONE",
    "BABEL_DEFAULT_TIMEZONE",
    "BUCHUNG_CLOSED_ON_HOLIDAYS",
    "BUCHUNG_PUBLIC_CLUB_NAMES",
)


def _keepable() -> bool:
    return (
        len(request.query_string) <= MAX_QUERY
        and request.args.keys() <= QUERY_ARGS
        and all(len(values) == 1 for values in request.args.listvalues())
    )


def _config_mark() -> str:
    config = current_app.config
    values = repr(tuple(config.get(name) for name in CONFIG)).encode()
    return f"{zlib.crc32(values):08x}"


def kept_page(moment: str, build: Callable[[], str]) -> Response:
    """The page ``build`` renders, kept for visitors without a session (see the module
    docstring); ``moment`` names the time as far as the page shows it (``week_moment``,
    ``plan_moment``)."""
    seconds = current_app.config["BUCHUNG_PAGE_CACHE_SECONDS"]
    if not without_session():
        return Response(build(), mimetype="text/html")
    if seconds <= 0 or not _keepable():
        body = build()
    else:
        key = (
            f"page:{request.script_root}{request.path}?{request.query_string.decode('latin-1')}"
            f":{get_locale()}:{moment}:{_config_mark()}"
        )
        body = cached_page_for(GENERATION, key, seconds, lambda: build().encode())
    response = Response(body, mimetype="text/html")
    if not (session.modified or session):
        response.headers["Cache-Control"] = "public, no-cache"
    return response


def week_moment() -> str:
    """The time as the week view shows it: today (the first day by default) and which cells
    have started ("vergangen").  Cells start on the quarter hours, so within one quarter
    hour ``(n·15 min, (n+1)·15 min]`` the same cells lie in the past."""
    now = utcnow()
    return f"{to_local(now).date()}:{math.ceil(now.timestamp() / (SLOT_MINUTES * 60))}"


def plan_moment() -> str:
    """The time as the Belegungsplan shows it: the week (this one by default) and the
    minute printed as "Stand"."""
    return str(int(utcnow().timestamp()) // 60)
