"""Unbound extension singletons, bound to an app in ``create_app``."""

from typing import Any

from flask import Flask, current_app, has_app_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name, get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login = LoginManager()
babel = Babel()


class _PerApp:
    """A limiter attribute whose value belongs to each app, not to the shared instance."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def _state(self, limiter: "AppLimiter") -> dict[str, Any] | None:
        app = limiter._binding
        if app is None and has_app_context():
            app = current_app._get_current_object()  # type: ignore[attr-defined]
        return None if app is None else app.extensions.get(AppLimiter.STATE)

    def __get__(self, limiter: "AppLimiter | None", owner: type) -> Any:
        if limiter is None:
            return self
        state = self._state(limiter)
        if state is not None and self.name in state:
            return state[self.name]
        return limiter.__dict__.get(self.name)  # the constructor's default

    def __set__(self, limiter: "AppLimiter", value: Any) -> None:
        state = self._state(limiter)
        if state is None:
            limiter.__dict__[self.name] = value
        else:
            state[self.name] = value


class AppLimiter(Limiter):
    """Flask-Limiter with each app's switch, storage, key prefix and fallback of its own.

    Flask-Limiter keeps what ``init_app`` reads from an app's config on its one instance, so a
    second app in the same process (a test, a second town's app in a shell) silently took over
    the first one's: an app created with ``RATELIMIT_ENABLED = False`` switched limits off for
    every app created after it, and the last app's storage counted everybody's hits.  Here the
    values that come from the config live in ``app.extensions``; the limits themselves (the
    decorators on the views) stay shared, as they are the same code.
    """

    STATE = "lotse.limiter"
    _binding: Flask | None = None

    enabled = _PerApp()
    _storage = _PerApp()
    _limiter = _PerApp()
    _key_prefix = _PerApp()
    _storage_dead = _PerApp()
    _fallback_storage = _PerApp()
    _fallback_limiter = _PerApp()
    _headers_enabled = _PerApp()
    _swallow_errors = _PerApp()
    _in_memory_fallback_enabled = _PerApp()

    def init_app(self, app: Flask) -> None:
        app.extensions[self.STATE] = {}
        self._binding = app
        try:
            super().init_app(app)
        finally:
            self._binding = None

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        """Skip the whole check for a view without a limit of its own (there are no default
        or application limits): most requests, which need not pay for finding no limit."""
        if in_middleware:
            view = current_app.view_functions.get(request.endpoint or "")
            if view is None or get_qualified_name(view) not in self._marked_for_limiting:
                return
        super()._check_request_limit(callable_name, in_middleware)

    def request_filter(self, fn):  # type: ignore[no-untyped-def]
        """Register ``fn`` once, however many apps are created (it used to pile up per app)."""
        if fn not in self._request_filters:
            super().request_filter(fn)
        return fn


limiter = AppLimiter(key_func=get_remote_address, default_limits=[])
