"""Where the features plug into the core without the core importing them.

Each feature calls these from its ``init_app``: demo data for ``seed-demo``, periodic
work for ``flask lotse sweep``, and entries on the staff start page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, url_for


@dataclass(frozen=True)
class StaffLink:
    label: object  # a lazy gettext string
    endpoint: str
    roles: tuple[str, ...]


def _hooks(app: Flask) -> dict[str, list]:
    return app.extensions.setdefault(
        "lotse_hooks", {"seeders": [], "sweeps": [], "staff_links": [], "error_renderers": []}
    )


@dataclass(frozen=True)
class DemoLogin:
    """A demo account that ``seed-demo`` prints and writes to ``instance/demo-login.txt``."""

    page: str  # where to log in (an absolute URL)
    label: str  # who it is: role or club
    email: str
    password: str


def register_seeder(app: Flask, seeder: Callable[[], list[DemoLogin] | None]) -> None:
    """Add demo data for a feature; runs inside ``seed-demo`` after the core data and may
    return the demo logins it created."""
    _hooks(app)["seeders"].append(seeder)


def register_sweep(app: Flask, sweep: Callable[[], None]) -> None:
    """Add periodic maintenance (re-enqueue due work, expire holds) to ``flask lotse sweep``."""
    _hooks(app)["sweeps"].append(sweep)


def register_staff_link(app: Flask, label, endpoint: str, *roles: str) -> None:
    """Show a link on the staff start page to staff holding any of ``roles``."""
    _hooks(app)["staff_links"].append(StaffLink(label, endpoint, roles))


def seeders() -> list[Callable[[], list[DemoLogin] | None]]:
    return list(_hooks(current_app)["seeders"])


def sweeps() -> list[Callable[[], None]]:
    return list(_hooks(current_app)["sweeps"])


def staff_links(user) -> list[dict]:
    return [
        {"label": link.label, "url": url_for(link.endpoint)}
        for link in _hooks(current_app)["staff_links"]
        if any(user.has_role(role) for role in link.roles)
    ]


def register_error_renderer(app: Flask, prefix: str, renderer: Callable) -> None:
    """Render HTTP errors below ``prefix`` in an API's own format.

    Blueprint error handlers never see errors raised while routing (405, or 404 for a
    path no rule matches); the core's handler hands those to ``renderer(exc)``.
    """
    _hooks(app)["error_renderers"].append((prefix, renderer))


def error_renderer(path: str) -> Callable | None:
    for prefix, renderer in _hooks(current_app)["error_renderers"]:
        if path.startswith(prefix):
            return renderer
    return None
