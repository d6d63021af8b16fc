"""Absolute links, always on ``PUBLIC_BASE_URL``.

Mails, feeds, Open311 and calendar links must point to the town's public address, never to
whatever ``Host`` header a request brought (that header is the client's to choose).  Jobs
have no request at all.  In production ``PUBLIC_BASE_URL`` must be set; the embedded
default takes the address ``flask run`` serves on (``lotse.config``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` on ``PUBLIC_BASE_URL`` (full endpoint names only)."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
