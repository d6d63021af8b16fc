"""Absolute links, always on ``PUBLIC_BASE_URL``.

Mails, feeds, Open311 and calendar links must point to the town's public address, never to
whatever ``Host`` header a request brought (that header is the client's to choose).  Jobs
have no request at all.  In production ``PUBLIC_BASE_URL`` must be set; the embedded
default takes the address ``flask run`` serves on (``lotse.config``).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlsplit

from flask import current_app


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` on ``PUBLIC_BASE_URL`` (full endpoint names only)."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


# What werkzeug's path converters leave unquoted (``BaseConverter.to_url``).
_URL_SAFE = "!$&'()*+,/:;=@"


def url_filler(url_with_marker: str, marker: object) -> Callable[[object], str]:
    """A URL built once with ``marker`` in place of one value, as a function of that value.

    A list of a thousand rows needs a thousand links that differ in one value; building
    each through the URL map costs more than the rest of the row.  Build one link with a
    value no row has (a word for a string part, ``lotse.inputs.DB_INT_MAX`` for an id) and
    fill in the others: ``url_filler(url_for("mangel.report_page", report_id=MAX), MAX)``.
    """
    head, found, tail = url_with_marker.rpartition(str(marker))
    if not found:
        raise ValueError(f"{marker!r} is not in {url_with_marker!r}")
    return lambda value: head + quote(str(value), safe=_URL_SAFE) + tail


def public_url_filler(endpoint: str, name: str, **values) -> Callable[[object], str]:
    """``public_url(endpoint, name=…, **values)`` for many values of ``name``."""
    marker = "__lotse_url_value__"
    return url_filler(public_url(endpoint, **values, **{name: marker}), marker)
