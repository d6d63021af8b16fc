"""Security headers on every response, and rate-limit hits counted by hand."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, current_app, request, session
from limits import RateLimitItem

from lotse.extensions import limiter

log = logging.getLogger(__name__)

# Pages of staff and of club accounts: personal data that no shared cache or back button
# may keep.  Any page seen while logged in is treated the same.
PRIVATE_PREFIXES = ("/verwaltung", "/buchung/verein", "/anmelden")


def private_page() -> bool:
    """Whether the response belongs to a staff or account page (or a logged-in session)."""
    if request.path.startswith(PRIVATE_PREFIXES):
        return True
    return bool(request.cookies) and "_user_id" in session


def _tile_origin(tile_url: str) -> str:
    parts = urlsplit(tile_url.replace("{s}", "a"))
    if not parts.scheme:
        return ""
    host = parts.netloc
    if tile_url.startswith(f"{parts.scheme}://{{s}}."):
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str, media_urls: tuple[str | None, ...] = ()) -> str:
    """Only our own origin, plus the configured tile server for map images and the host of
    the DGS video when the town serves it from elsewhere."""
    tiles = _tile_origin(tile_url)
    img_src = " ".join(filter(None, ["'self'", "data:", "blob:", tiles]))
    media = {_tile_origin(url) for url in media_urls if url and "://" in url}
    media_src = " ".join(["'self'", *sorted(media)])
    return "; ".join(
        [
            "default-src 'self'",
            f"img-src {img_src}",
            f"media-src {media_src}",
            "script-src 'self'",
            "style-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def init_app(app: Flask) -> None:
    csp = content_security_policy(
        app.config["TILE_URL"], (app.config["DGS_VIDEO"], app.config["DGS_CAPTIONS"])
    )

    fixed = [
        ("Content-Security-Policy", csp),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", "geolocation=(self), camera=(), microphone=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if app.config["SESSION_COOKIE_SECURE"]:
        fixed.append(("Strict-Transport-Security", "max-age=31536000"))
    fixed_names = [(name.lower(), name, value) for name, value in fixed]

    @app.after_request
    def set_security_headers(response):
        """The fixed headers a view did not set itself, read once per response."""
        headers = response.headers
        present = {name.lower() for name, _value in headers}
        for lower, name, value in fixed_names:
            if lower not in present:
                headers.add(name, value)
        if "cache-control" not in present and private_page():
            headers["Cache-Control"] = "no-store"
        return response


def within_limit(item: RateLimitItem, *identifiers: str) -> bool:
    """Count one hit of ``item`` for ``identifiers``; ``False`` once the limit is reached.

    For limits a view counts itself (per e-mail address, per API key).  While the limiter's
    storage (Redis) is unreachable the hit is let through: an uncounted request for a few
    seconds is better than a 500 for a citizen.
    """
    try:
        prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
        return limiter.limiter.hit(item, prefix, *identifiers)
    except Exception as exc:  # noqa: BLE001 - whatever the storage raises
        log.warning("rate-limit storage unreachable, %s not counted: %s", item, exc)
        return True
