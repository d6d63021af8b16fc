"""Input bounds at the edge, for every view at once.

Hostile values must end as a 4xx, never as a 500 from deep inside the database driver:

- ``<int:…>`` in routes only matches ids the database can hold (larger ones are a 404);
- numbers in the query string (alone or comma-separated) and digits in other route parts
  beyond that range are refused (400, or 404 for route parts), as are non-ASCII digits
  (``"²".isdigit()`` is true, ``int("²")`` fails);
- control characters (NUL above all: PostgreSQL refuses it in text) in the path or the query
  string are refused with 400; in a form they get a German message at the field (see
  ``LotseForm``), and APIs (``/open311/``, ``/api/``) answer 400.
"""

from __future__ import annotations

import re

from flask import Flask, abort, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter

DB_INT_MAX = 2**31 - 1  # PostgreSQL INTEGER; every id and number column of Lotse is one
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NUMBER = re.compile(r"[+-]?\d+")
API_PREFIXES = ("/open311/", "/api/")
# Free-text search: digits there are text (a phone or file number), not an id.
TEXT_ARGS = frozenset({"q"})

CONTROL_MESSAGE = _l("Bitte entfernen Sie die Steuerzeichen aus Ihrer Eingabe.")
NUMBER_MESSAGE = _l("Diese Zahl ist zu groß.")


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` limited to the database's integer range: larger ids simply do not match."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def out_of_range(value: str) -> bool:
    """Whether ``value`` is a number (or a comma-separated list of them) the database
    cannot hold, or is written with other than ASCII digits."""
    parts = (part.strip() for part in value.split(","))
    return any(
        NUMBER.fullmatch(part) and (not part.isascii() or abs(int(part)) > DB_INT_MAX)
        for part in parts
    )


def db_int(text: str | None) -> int | None:
    """``text`` as an id or count the database can hold (ASCII digits), else ``None``."""
    if text and text.isascii() and text.isdigit() and int(text) <= DB_INT_MAX:
        return int(text)
    return None


def check_request() -> None:
    """Refuse hostile path, query and (for APIs) form values before any view runs."""
    if CONTROL_CHARS.search(request.path):
        abort(400)
    for name, value in request.args.items(multi=True):
        if CONTROL_CHARS.search(name) or CONTROL_CHARS.search(value):
            abort(400)
        if name not in TEXT_ARGS and out_of_range(value):
            abort(400)
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and out_of_range(value):
            abort(404)
    if request.path.startswith(API_PREFIXES) and request.method in ("POST", "PUT", "PATCH"):
        for name, value in request.form.items(multi=True):
            if CONTROL_CHARS.search(name) or CONTROL_CHARS.search(value):
                abort(400)


class LotseForm(FlaskForm):
    """The base of every form: no control characters in text, no number the database
    cannot store; both answered with a German message at the field."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            data = field.data
            values = data if isinstance(data, list | tuple) else [data]
            if any(isinstance(v, str) and CONTROL_CHARS.search(v) for v in values):
                field.errors = [*field.errors, CONTROL_MESSAGE]
                valid = False
            elif any(
                isinstance(v, int) and not isinstance(v, bool) and abs(v) > DB_INT_MAX
                for v in values
            ):
                field.errors = [*field.errors, NUMBER_MESSAGE]
                valid = False
        return valid


def init_app(app: Flask) -> None:
    """Register the bounded ``int`` converter (before any blueprint) and the request check."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(check_request)
