"""Opening hours and durations in words: "Mo–Fr 16–22 Uhr, Sa und So 8–20 Uhr", "2,5 Stunden".

People read "geöffnet 16–22 Uhr" faster than 16 rows of "nicht geöffnet"; numbers are
written the German way through Babel ("2,5", never "2.5" or "3.0").
"""

from __future__ import annotations

from datetime import date

from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _

from buchung.clock import format_hhmm
from buchung.models import Resource


def _clock(minute: int, *, whole: bool) -> str:
    return str(minute // 60) if whole else format_hhmm(minute)


def hours_range(opens: int, closes: int) -> str:
    """``16–22 Uhr``, or ``16:30–22:00 Uhr`` when a time is not on the hour."""
    whole = opens % 60 == 0 and closes % 60 == 0
    return _(
        "%(opens)s–%(closes)s Uhr",
        opens=_clock(opens, whole=whole),
        closes=_clock(closes, whole=whole),
    )


def day_intervals(resource: Resource, weekday: int) -> list[tuple[int, int]]:
    """The opening intervals (local minutes) of ``resource`` on a weekday (Monday = 0)."""
    return sorted(
        (row.opens_minute, row.closes_minute)
        for row in resource.root.opening_hours
        if row.weekday == weekday
    )


def day_text(resource: Resource, day: date) -> str:
    """``16–22 Uhr`` (``8–12 und 14–20 Uhr``) for one day; empty when closed that weekday."""
    return _and([hours_range(*i) for i in day_intervals(resource, day.weekday())])


def _and(items: list[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return _("%(first)s und %(last)s", first=", ".join(items[:-1]), last=items[-1])


def _weekday_name(weekday: int) -> str:
    return format_date(date(2024, 1, 1 + weekday), "EEE").rstrip(".")


def week_texts(resource: Resource) -> list[str]:
    """``day_text`` of each weekday, Monday first (days with the same hours worded once)."""
    worded: dict[tuple, str] = {}
    texts = []
    for weekday in range(7):
        intervals = tuple(day_intervals(resource, weekday))
        if intervals not in worded:
            worded[intervals] = _and([hours_range(*i) for i in intervals])
        texts.append(worded[intervals])
    return texts


def opening_text(resource: Resource, texts: list[str] | None = None) -> str:
    """Every weekday's hours in words, equal neighbouring days joined: ``Mo–Fr 16–22 Uhr,
    Sa und So 8–20 Uhr``; empty when no hours are set.  ``texts``: ``week_texts``, if made."""
    groups: list[tuple[list[int], str]] = []
    texts = texts or week_texts(resource)
    for weekday in range(7):
        text = texts[weekday]
        if not text:
            continue
        if groups and groups[-1][1] == text and groups[-1][0][-1] == weekday - 1:
            groups[-1][0].append(weekday)
        else:
            groups.append(([weekday], text))
    parts = []
    for days, text in groups:
        first, last = _weekday_name(days[0]), _weekday_name(days[-1])
        if len(days) == 1:
            label = first
        elif len(days) == 2:
            label = _("%(first)s und %(last)s", first=first, last=last)
        else:
            label = f"{first}–{last}"
        parts.append(f"{label} {text}")
    return ", ".join(parts)


def hours_number(minutes: int) -> str:
    """Hours as a German number: ``3``, ``2,5``, ``1,75``."""
    return format_decimal(minutes / 60, format="#,##0.##")


def hours_text(minutes: int) -> str:
    """``1 Stunde``, ``3 Stunden``, ``2,5 Stunden``."""
    return ngettext(
        "%(hours)s Stunde",
        "%(hours)s Stunden",
        1 if minutes == 60 else 2,
        hours=hours_number(minutes),
    )
