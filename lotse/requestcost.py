"""What every request pays, kept small, and public answers a reverse proxy may keep.

- Templates look up translations through one catalogue per request and locale, not
  through Flask-Babel's chain of context lookups for each of the page's strings.
- The rate limiter runs only for views that have a limit; every other request skips it.
- A GET answered to a visitor without a session (no login, no form, no flash) is public:
  ``Cache-Control: public`` for a short while, an ``ETag``, and ``304`` to a matching
  ``If-None-Match``, so nginx (``docs/deploy.md``) or the browser can answer the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, current_app, g, request, session
from flask_babel import get_locale, get_translations
from flask_limiter.util import get_qualified_name
from jinja2 import pass_context
from markupsafe import Markup

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
    """Jinja's newstyle gettext, with one call per ``_()`` instead of three.

    The i18n extension's ``_`` calls ``gettext`` through the context, which calls the
    catalogue lookup through the context again; each such call inspects its callee.  These
    do the same (autoescape, always ``%``-format) straight away.
    """

    def finish(context, text: str, variables: dict) -> str:
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - our own catalogue, as Jinja has it
        return text % variables

    @pass_context
    def gettext(context, string: str, **variables) -> str:
        return finish(context, _translations().ugettext(string), variables)

    @pass_context
    def ngettext(context, singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        return finish(context, _translations().ungettext(singular, plural, num), variables)

    @pass_context
    def pgettext(context, ctx: str, string: str, **variables) -> str:
        return finish(context, _translations().upgettext(ctx, string), variables)

    @pass_context
    def npgettext(context, ctx: str, singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        text = _translations().unpgettext(ctx, singular, plural, num)
        return finish(context, text, variables)

    app.jinja_env.newstyle_gettext = True
    app.jinja_env.globals.update(
        _=gettext, gettext=gettext, ngettext=ngettext, pgettext=pgettext, npgettext=npgettext
    )


def _not_limited() -> bool:
    """True for a request to a view without a limit of its own (there are no defaults)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return view is None or get_qualified_name(view) not in limiter._marked_for_limiting


def without_session() -> bool:
    """A visitor who brought no session and no login: nothing personal can be on the page."""
    config = current_app.config
    return not (
        config["SESSION_COOKIE_NAME"] in request.cookies
        or config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    )


def same_for_every_visitor(view: Callable[..., str]) -> Callable[..., str]:
    """Keep a view's page per language for visitors without a session, rendered once.

    For pages made only of templates and configuration (the start page): a visitor
    without a session sees no login, no flash and no form token, so the page differs
    only by its language.  Anyone with a session, or a query string, gets it rendered.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.query_string or not without_session():
            return view(*args, **kwargs)
        kept = current_app.extensions.setdefault("lotse_pages", {})
        key = (request.endpoint, request.path, str(get_locale()))
        if key in kept:
            return kept[key]
        page = view(*args, **kwargs)
        if not session.modified:  # a page that started a session is that visitor's own
            kept[key] = page
        return page

    return wrapper


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
        or not without_session()
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
