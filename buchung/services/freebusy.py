"""Free and busy times of a hall and its parts over a date range, for the booking API.

Two queries whatever the range and the number of bookings: the closures that may touch
the range, and one index range scan of the slot table over the hall's units, grouped per
booking (the resource with its parts and opening hours is loaded already).  Busy times
are the slots held by any active booking (guest holds, requests, confirmed bookings,
blockings); a booking of the whole hall holds every part.  Free is what is open (opening hours), not
closed (closures, public holidays), not busy and not past.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import func, select

from buchung.clock import local_moment, zone
from buchung.models import SLOT, BookingSlot, Resource
from buchung.services.rules import (
    ClosedInterval,
    Interval,
    closures_query,
    expand_closure,
    open_intervals,
    public_holidays,
)
from lotse.extensions import db
from lotse.models import utcnow


@dataclass
class UnitTimes:
    """One bookable unit (a part, or the whole hall): its free, busy and closed times."""

    resource: Resource
    free: list[Interval]
    busy: list[Interval]
    closed: list[ClosedInterval]


def on_grid(moment: datetime, minutes: int) -> datetime:
    """``moment``, or the next start on a resource's booking grid after it."""
    step = minutes * 60
    return datetime.fromtimestamp(math.ceil(moment.timestamp() / step) * step, UTC)


def merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted intervals joined where they touch or overlap."""
    found: list[Interval] = []
    for start, end in sorted(intervals):
        if found and start <= found[-1][1]:
            found[-1] = (found[-1][0], max(found[-1][1], end))
        else:
            found.append((start, end))
    return found


def subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    """``intervals`` without ``holes`` (both sorted and merged)."""
    found: list[Interval] = []
    for start, end in intervals:
        for hole_start, hole_end in holes:
            if hole_end <= start or hole_start >= end:
                continue
            if hole_start > start:
                found.append((start, hole_start))
            start = max(start, hole_end)
            if start >= end:
                break
        if start < end:
            found.append((start, end))
    return found


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """Where both sorted, merged lists of intervals hold."""
    found, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            found.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return found


def _busy_by_unit(units: list[Resource], start: datetime, end: datetime) -> dict[int, list]:
    """Busy spans per unit: the slot rows in range, one span per booking and unit (grouped
    in the database, so Python sees a row per booking, not per 15 minutes)."""
    rows = db.session.execute(
        select(
            BookingSlot.unit_id, func.min(BookingSlot.slot_start), func.max(BookingSlot.slot_start)
        )
        .where(
            BookingSlot.unit_id.in_([u.id for u in units]),
            BookingSlot.slot_start >= start,
            BookingSlot.slot_start < end,
        )
        .group_by(BookingSlot.unit_id, BookingSlot.booking_id)
    )
    spans: dict[int, list] = {unit.id: [] for unit in units}
    for unit_id, first, last in rows:
        spans[unit_id].append((first, last + SLOT))
    return {unit: merge(found) for unit, found in spans.items()}


def _closed_by_unit(hall: Resource, units: list[Resource], start, end) -> dict[int, list]:
    """Closures and holidays per unit: the hall's and the town's close every part."""
    ids = {hall.id, *(u.id for u in units)}
    general: list[ClosedInterval] = []
    own: dict[int, list[ClosedInterval]] = {u.id: [] for u in units}
    for closure in db.session.scalars(closures_query(ids, start, end)):
        spans = [
            ClosedInterval(s, e, closure.title) for s, e in expand_closure(closure, start, end)
        ]
        if closure.resource_id in own and closure.resource_id != hall.id:
            own[closure.resource_id] += spans
        else:
            general += spans
    if current_app.config["BUCHUNG_CLOSED_ON_HOLIDAYS"]:
        first, last = start.astimezone(zone()).date(), (end - SLOT).astimezone(zone()).date()
        for day, name in public_holidays(first, last).items():
            general.append(ClosedInterval(local_moment(day, 0), local_moment(day, 1440), name))
    return {
        unit: sorted(general + spans, key=lambda c: (c.starts_at, c.ends_at))
        for unit, spans in own.items()
    }


def free_busy(hall: Resource, first: date, last: date) -> list[UnitTimes]:
    """Free, busy and closed times of ``hall`` from ``first`` to ``last`` (local days,
    inclusive): one entry per part, led by the whole hall when it has parts (free only
    where every part is free, busy where any part is)."""
    start, end = local_moment(first, 0), local_moment(last, 1440)
    units = hall.parts or [hall]
    opening = merge(open_intervals(hall, start, end))
    opening = [(max(s, start), min(e, end)) for s, e in opening if s < end and e > start]
    now = on_grid(utcnow(), hall.slot_minutes)
    past = [(start, now)] if now > start else []
    busy = _busy_by_unit(units, start, end)
    closed = _closed_by_unit(hall, units, start, end)
    found = []
    for unit in units:
        holes = merge([*busy[unit.id], *((c.starts_at, c.ends_at) for c in closed[unit.id]), *past])
        found.append(UnitTimes(unit, subtract(opening, holes), busy[unit.id], closed[unit.id]))
    if hall.parts:
        whole_free = found[0].free
        for part in found[1:]:
            whole_free = intersect(whole_free, part.free)
        whole_closed = sorted(
            {c for part in found for c in part.closed}, key=lambda c: (c.starts_at, c.ends_at)
        )
        whole_busy = merge([span for part in found for span in part.busy])
        found.insert(0, UnitTimes(hall, whole_free, whole_busy, whole_closed))
    return found
