"""The VTIMEZONE of the town's time zone in the usual yearly RRULE form.

``icalendar``'s ``add_missing_timezones`` writes one RDATE per change for 1970–2037; some
readers (vobject, and with it every client built on it) then place each summer date an
hour wrong.  Calendar apps themselves write a zone as two yearly rules (Outlook, Apple,
Google): daylight from the last Sunday of March, standard from the last Sunday of October.
This module derives those two rules from the zone's changes in the current year, so the
same code serves any zone with yearly changes, and a zone without any as a fixed offset.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur, vUTCOffset

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
FIRST_YEAR = 1970  # where the rules start, as calendar apps write them


def _changes(zone: ZoneInfo, year: int) -> list[tuple[datetime, timedelta, timedelta]]:
    """(local wall time of the change, offset before, offset after) in ``year``."""
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    before = moment.astimezone(zone).utcoffset()
    while moment < end:
        step = moment + timedelta(hours=1)
        after = step.astimezone(zone).utcoffset()
        if after != before:
            # The wall clock reads this just before the change (in the old offset).
            found.append(((step + before).replace(tzinfo=None), before, after))
            before = after
        moment = step
    return found


def _byday(day: date) -> str:
    """``-1SU`` for the last Sunday of its month, else ``2SU`` etc."""
    weekday = WEEKDAYS[day.weekday()]
    if (day + timedelta(days=7)).month != day.month:
        return f"-1{weekday}"
    return f"{(day.day - 1) // 7 + 1}{weekday}"


def _first(byday: str, month: int, wall: datetime) -> datetime:
    """The rule's first occurrence in ``FIRST_YEAR``, the DTSTART of the rule."""
    weekday = WEEKDAYS.index(byday[-2:])
    nth = int(byday[:-2])
    if nth < 0:
        day = date(FIRST_YEAR + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
        day -= timedelta(days=(day.weekday() - weekday) % 7)
    else:
        day = date(FIRST_YEAR, month, 1)
        day += timedelta(days=(weekday - day.weekday()) % 7 + 7 * (nth - 1))
    return datetime.combine(day, wall.time())


def _name(zone: ZoneInfo, year: int, month: int) -> str:
    return datetime(year, month, 15, 12, tzinfo=zone).tzname() or ""


@lru_cache(maxsize=8)
def _vtimezone_ical(tzid: str, year: int) -> bytes:
    zone = ZoneInfo(tzid)
    timezone = Timezone()
    timezone.add("tzid", tzid)
    changes = _changes(zone, year)
    if len(changes) != 2:  # no (or no regular) summer time: one fixed offset
        offset = datetime(year, 1, 1, tzinfo=zone).utcoffset()
        standard = TimezoneStandard()
        standard.add("dtstart", datetime(FIRST_YEAR, 1, 1))
        standard.add("tzoffsetfrom", vUTCOffset(offset))
        standard.add("tzoffsetto", vUTCOffset(offset))
        standard.add("tzname", _name(zone, year, 1))
        timezone.add_component(standard)
        return timezone.to_ical()
    for wall, before, after in changes:
        part = TimezoneDaylight() if after > before else TimezoneStandard()
        byday = _byday(wall.date())
        part.add("tzname", _name(zone, year, wall.month + (1 if wall.month < 12 else 0)))
        part.add("tzoffsetfrom", vUTCOffset(before))
        part.add("tzoffsetto", vUTCOffset(after))
        part.add("dtstart", _first(byday, wall.month, wall))
        part.add("rrule", vRecur(freq="YEARLY", bymonth=wall.month, byday=byday))
        timezone.add_component(part)
    return timezone.to_ical()


def vtimezone(tzid: str, year: int | None = None) -> Timezone:
    """The VTIMEZONE component of ``tzid`` as two yearly rules (or one fixed offset)."""
    year = year or datetime.now(UTC).year
    return Timezone.from_ical(_vtimezone_ical(tzid, year))
