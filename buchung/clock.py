"""Local wall-clock time (Europe/Berlin) versus the UTC the database stores.

Bookings, slots and closures are stored in UTC; people read and type local times.  On the
night the clocks go forward a local time like 02:30 does not exist; on the night they go
back, 02:30 happens twice and means the first (summer-time) one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from lotse.models import utcnow


class NonexistentLocalTime(ValueError):
    """A local time skipped when the clocks go forward."""


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(zone())


def local_today() -> date:
    return to_local(utcnow()).date()


def local_moment(day: date, minute: int, *, strict: bool = False) -> datetime:
    """The UTC moment of ``minute`` minutes after local midnight of ``day`` (1440 = next midnight).

    With ``strict``, a time the clocks skip raises ``NonexistentLocalTime``; otherwise it
    is read with the offset before the change, as the clock on the wall would show it.
    """
    day_offset, minute = divmod(minute, 1440)
    wall = datetime.combine(day + timedelta(days=day_offset), time(minute // 60, minute % 60))
    moment = wall.replace(tzinfo=zone()).astimezone(UTC)
    if strict and to_local(moment).replace(tzinfo=None) != wall:
        raise NonexistentLocalTime(wall.isoformat())
    return moment


def minute_of_day(moment: datetime) -> int:
    local = to_local(moment)
    return local.hour * 60 + local.minute


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_hhmm(text: str) -> int:
    """Minutes after midnight for ``"HH:MM"`` (``"24:00"`` allowed); ``ValueError`` otherwise."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or len(minutes) != 2 or not minutes.isdigit():
        raise ValueError(text)
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > 1440:
        raise ValueError(text)
    return value


def format_hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
