"""What is free when: the week grid of a resource and the bookings of a period.

A week view costs four small queries whatever the number of bookings: the resource with
its parts and opening hours, the closures of the week, and one index range scan of the
slot table over the resource's units (``(unit_id, slot_start)`` is the primary key).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from buchung.clock import NonexistentLocalTime, local_moment, monday_of
from buchung.models import (
    ACTIVE_STATUSES,
    SLOT,
    SLOT_MINUTES,
    Booking,
    BookingSlot,
    Resource,
)
from buchung.services.rules import closed_intervals, is_covered, open_intervals
from lotse.extensions import db
from lotse.models import utcnow


class Cell(NamedTuple):
    """One slot of the grid: ``free``, ``partial`` (some parts of a hall booked), ``booked``,
    ``closed``, ``outside`` the opening hours, or ``past``.  (A tuple: a week has about
    240, made in one go.)"""

    starts_at: datetime
    ends_at: datetime
    state: str
    note: str = ""

    @property
    def start_param(self) -> str:
        """The start as a URL-safe UTC stamp for the booking link (``?start=``)."""
        return self.starts_at.strftime("%Y-%m-%dT%H:%MZ")


@dataclass
class Grid:
    resource: Resource
    days: list[date]
    rows: list[tuple[int, list[Cell | None]]]  # (local minute of day, one cell per day)

    @property
    def monday(self) -> date:
        return monday_of(self.days[0])

    def has_free(self) -> bool:
        return any(cell and cell.state == "free" for _m, cells in self.rows for cell in cells)


def why_not_free(grid: Grid) -> str:
    """Why the first day of a grid without a free cell has none, in German: the closure
    ("Feiertag: Erster Weihnachtstag", "Sommerferien"), not open, over, or fully booked."""
    cells = [cells[0] for _minute, cells in grid.rows if cells[0] is not None]
    opened = [cell for cell in cells if cell.state != "outside"]
    if not opened:
        return _("an diesem Tag nicht geöffnet")
    closures = [cell.note for cell in opened if cell.state == "closed"]
    if closures and len(closures) == len(opened):
        return closures[0]
    if all(cell.state == "past" for cell in opened):
        return _("die Öffnungszeit ist vorbei")
    if closures:
        return _("ausgebucht oder geschlossen (%(title)s)", title=closures[0])
    return _("ausgebucht")


def _row_minutes(resource: Resource) -> list[int]:
    rules = resource.root
    hours = rules.opening_hours
    if not hours:
        return []
    first = min(h.opens_minute for h in hours) // rules.slot_minutes * rules.slot_minutes
    last = max(h.closes_minute for h in hours)
    return list(range(first, last, rules.slot_minutes))


# The held slots of some units during [start, end): an index range scan; built once.
_TAKEN = select(BookingSlot.slot_start).where(
    BookingSlot.unit_id.in_(bindparam("units", expanding=True)),
    BookingSlot.slot_start >= bindparam("start"),
    BookingSlot.slot_start < bindparam("end"),
)


def taken_units(resource: Resource, start: datetime, end: datetime) -> Counter:
    """How many units of ``resource`` are held in each grid slot of ``[start, end)``."""
    rows = db.session.execute(_TAKEN, {"units": resource.unit_ids(), "start": start, "end": end})
    return Counter(slot_start for (slot_start,) in rows)


def grid(resource: Resource, days: list[date], now: datetime | None = None) -> Grid:
    """Free, booked, closed and outside-hours cells of ``resource`` for consecutive days.

    Booker names never appear here: this is what the public sees.  On the night the
    clocks go forward the skipped local times have no cell (``None``).
    """
    now = now or utcnow()
    rules = resource.root
    start, end = local_moment(days[0], 0), local_moment(days[-1], 1440)
    opening = open_intervals(resource, start, end)
    closed = closed_intervals(resource, start, end)
    taken = taken_units(resource, start, end)
    length = timedelta(minutes=rules.slot_minutes)
    slots = [n * SLOT for n in range(rules.slot_minutes // SLOT_MINUTES)]
    full = len(resource.unit_ids()) * len(slots)
    minutes = _row_minutes(resource)
    columns = [
        _column(_cell_starts(day, minutes), length, now, opening, closed, taken, slots, full)
        for day in days
    ]
    rows = [(minute, [column[i] for column in columns]) for i, minute in enumerate(minutes)]
    return Grid(resource, days, rows)


def _cell_starts(day: date, minutes: list[int]) -> list[datetime | None]:
    """The UTC starts of a day's cells; ``None`` for a local time the clocks skip.

    On the days without a clock change (all but two a year) a cell starts its minutes after
    local midnight, which spares a time zone conversion per cell.
    """
    midnight = local_moment(day, 0)
    if local_moment(day, 1440) - midnight == timedelta(days=1):
        return [midnight + timedelta(minutes=minute) for minute in minutes]
    starts: list[datetime | None] = []
    for minute in minutes:
        try:
            starts.append(local_moment(day, minute, strict=True))
        except NonexistentLocalTime:
            starts.append(None)
    return starts


def _column(starts, length, now, opening, closed, taken, slots, full) -> list[Cell | None]:
    """One day's cells.  Only the opening hours and closures that touch the day are
    looked at, and the slot table only when something is booked that week."""
    known = [start for start in starts if start is not None]
    if not known:
        return list(starts)
    first, last = known[0], known[-1] + length
    opening = [(o, c) for o, c in opening if o < last and first < c]
    closed = [c for c in closed if c.starts_at < last and first < c.ends_at]
    column: list[Cell | None] = []
    add = column.append
    held_at = taken.get
    for start in starts:
        if start is None:
            add(None)
            continue
        end = start + length
        if start < now:
            add(Cell(start, end, "past"))
            continue
        if closed:
            shut = next((c for c in closed if c.starts_at < end and start < c.ends_at), None)
            if shut is not None:
                add(Cell(start, end, "closed", shut.title))
                continue
        if not is_covered(start, end, opening):
            add(Cell(start, end, "outside"))
            continue
        held = 0
        if taken:
            for slot in slots:
                held += held_at(start + slot, 0)
        if held == 0:
            add(Cell(start, end, "free"))
        else:
            add(Cell(start, end, "booked" if held >= full else "partial"))
    return column


def week(resource: Resource, monday: date, now: datetime | None = None) -> Grid:
    """The week view of ``resource`` starting on ``monday``."""
    return grid(resource, [monday + timedelta(days=n) for n in range(7)], now)


def bookings_between(resources: list[Resource], start: datetime, end: datetime) -> list[Booking]:
    """Active bookings and blockings of these resources (and their parts) in ``[start, end)``."""
    ids = {r.id for r in resources} | {p.id for r in resources for p in r.parts}
    return list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.resource_id.in_(ids),
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.starts_at < end,
                Booking.ends_at > start,
            )
            .order_by(Booking.starts_at)
        )
    )
