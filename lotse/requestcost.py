"""What every request pays, kept small, and public answers a reverse proxy may keep.

- Templates look up translations through one catalogue per request and locale, not
  through Flask-Babel's chain of context lookups for each of the page's strings.
- The rate limiter runs only for views that have a limit; every other request skips it.
- A GET answered to a visitor without a session (no login, no form, no flash) is public:
  ``Cache-Control: public`` for a short while, an ``ETag``, and ``304`` to a matching
  ``If-None-Match``, so nginx (``docs/deploy.md``) or the browser can answer the next one.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request, session
from flask_babel import get_locale, get_translations
from flask_limiter.util import get_qualified_name

from lotse.extensions import limiter


def _translations():
    """The catalogue of the locale in force; again only when the locale changes
    (``force_locale`` inside a request, e.g. a job run in-process writing a German mail)."""
    babel_context = g.get("_flask_babel")
    locale = getattr(babel_context, "babel_locale", None)
    cached = g.get("_lotse_translations")
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    g._lotse_translations = (get_locale(), translations)
    return translations


def _install_translations(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )


def _not_limited() -> bool:
    """True for a request to a view without a limit of its own (there are no defaults)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return view is None or get_qualified_name(view) not in limiter._marked_for_limiting


def _public_cache(response):
    """Mark an anonymous GET's answer public and conditional (see the module docstring)."""
    config = current_app.config
    if (
        request.method not in ("GET", "HEAD")
        or response.status_code != 200
        or response.is_streamed
        or response.direct_passthrough
        or session.modified
        or session
        or config["SESSION_COOKIE_NAME"] in request.cookies
        or config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
        or "Set-Cookie" in response.headers
    ):
        return response
    response.headers.setdefault(
        "Cache-Control", f"public, max-age={config['PUBLIC_CACHE_SECONDS']}"
    )
    if "public" not in response.headers["Cache-Control"]:
        return response
    response.vary.update(("Accept-Language", "Cookie"))
    response.add_etag()
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    _install_translations(app)
    limiter.request_filter(_not_limited)
    app.after_request(_public_cache)
