"""Dates formatted for a whole list at once.

``format_date`` (the ``dateformat`` filter) looks up the locale, the time zone and the
pattern for every date it formats; a list of reports formats dozens.  A formatter made
once per request does those lookups once and gives the same text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from babel.dates import get_date_format, parse_pattern
from flask_babel import get_locale, get_timezone


def date_formatter(format: str = "medium") -> Callable[[datetime | date], str]:  # noqa: A002 - Babel's name
    """A function that formats a date, or a datetime's local date, as ``format_date`` does."""
    locale, zone = get_locale(), get_timezone()
    if format in ("full", "long", "medium", "short"):
        format = get_date_format(format, locale=locale).pattern  # noqa: A001
    pattern = parse_pattern(format)
    seen: dict = {}

    def formatted(value: datetime | date) -> str:
        day = value.astimezone(zone).date() if isinstance(value, datetime) else value
        if day not in seen:
            seen[day] = pattern.apply(day, locale)
        return seen[day]

    return formatted
