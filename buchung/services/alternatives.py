"""What to say when a wished time is not to be had: what blocks it, and what is free instead.

A refusal names the part and time that are taken ("Drittel A ist von 17:00 bis 19:00
belegt"), and offers the next free times of the same length in this resource, the sibling
parts of the hall that are free (at the wished time or soon after), and the waiting list.
Booker names never appear: only a club's own bookings are named to that club.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from buchung.clock import format_hhmm, local_moment, local_today, minute_of_day, to_local
from buchung.club_models import Club
from buchung.models import Booking, BookingSlot, Resource
from buchung.services import availability
from buchung.services.booking import holders
from lotse.extensions import db
from lotse.models import utcnow

SEARCH_DAYS = 14  # how far ahead the next free times are looked for
FIRST_DAYS = 3  # read first; most wishes find their offers there


@dataclass(frozen=True)
class Offer:
    """A free time the visitor may book instead."""

    resource: Resource
    starts_at: datetime
    ends_at: datetime

    @property
    def start_param(self) -> str:
        return self.starts_at.strftime("%Y-%m-%dT%H:%MZ")

    @property
    def end_param(self) -> str:
        return self.ends_at.strftime("%Y-%m-%dT%H:%MZ")

    @property
    def when(self) -> str:
        """``Mi 03.12. 18:00–19:00``."""
        return _when(self.starts_at, self.ends_at)


def _when(starts_at: datetime, ends_at: datetime) -> str:
    local = to_local(starts_at).date()
    day = f"{format_date(local, 'EEE').rstrip('.')} {format_date(local, 'dd.MM.')}"
    end = format_hhmm(minute_of_day(ends_at) or 1440)
    return f"{day} {format_hhmm(minute_of_day(starts_at))}–{end}"


def _name(resource: Resource) -> str:
    return f"{resource.parent.name}: {resource.name}" if resource.parent else resource.name


def _in_the_way(resource: Resource, starts_at, ends_at, moving: Booking | None) -> list[Booking]:
    in_the_way = [b for b in holders(resource, starts_at, ends_at) if b is not moving]
    return sorted(in_the_way, key=lambda b: b.starts_at)


def own_dates_only(
    resource: Resource, starts_at: datetime, ends_at: datetime, club: Club, moving: Booking
) -> bool:
    """Whether only the club's own other dates are in the way of moving ``moving``."""
    found = _in_the_way(resource, starts_at, ends_at, moving)
    return bool(found) and all(b.club_id == club.id for b in found)


def blocked_by(
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    club: Club | None = None,
    moving: Booking | None = None,
) -> list[str]:
    """One sentence per booking in the way: which part, which time; a club's own training
    is named to it ("… hat Ihr Verein schon einen Termin: Di 18:00–20:00 Drittel C: …").
    ``moving``: the booking being moved, which is not in its own way."""
    found = []
    for booking in _in_the_way(resource, starts_at, ends_at, moving):
        if club is not None and booking.club_id == club.id:
            what = booking.series.label if booking.series is not None else booking.purpose
            found.append(
                _(
                    "Zu dieser Zeit hat Ihr Verein schon einen Termin: %(what)s (%(when)s).",
                    what=what,
                    when=_when(booking.starts_at, booking.ends_at),
                )
            )
        else:
            found.append(
                _(
                    "%(name)s ist am %(when)s belegt.",
                    name=_name(booking.resource),
                    when=_when(booking.starts_at, booking.ends_at),
                )
            )
    return found


def free_parts(resource: Resource, starts_at: datetime, ends_at: datetime) -> list[Resource]:
    """The parts of the hall (other than ``resource``) that are free all of ``[start, end)``."""
    hall = resource.root
    candidates = [part for part in hall.parts if part.id != resource.id]
    if not candidates:
        return []
    held = set(
        db.session.scalars(
            select(BookingSlot.unit_id).where(
                BookingSlot.unit_id.in_([part.id for part in candidates]),
                BookingSlot.slot_start >= starts_at,
                BookingSlot.slot_start < ends_at,
            )
        )
    )
    return [part for part in candidates if part.id not in held]


def _length(resource: Resource, starts_at: datetime, ends_at: datetime) -> timedelta:
    """The wished length, within the resource's limits and on its grid."""
    rules = resource.root
    minutes = (ends_at - starts_at) // timedelta(minutes=1)
    minutes = min(max(minutes, rules.min_minutes), rules.max_minutes)
    minutes = -(-minutes // rules.slot_minutes) * rules.slot_minutes
    return timedelta(minutes=minutes)


def next_free(
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    *,
    limit: int = 3,
    include_wish: bool = False,
) -> list[Offer]:
    """The next ``limit`` free times of the wished length in ``resource``, from the wished
    start on (not the wish itself unless ``include_wish``), within two weeks and the
    booking horizon; one a day at most, so the offers spread: on the wished day the first
    free time after the wish, on later days the one nearest the wished time of day."""
    rules = resource.root
    length = _length(resource, starts_at, ends_at)
    first = max(to_local(starts_at).date(), local_today())
    horizon = utcnow() + timedelta(days=rules.horizon_days)
    if local_moment(first, 0) > horizon:  # beyond what may be booked: nothing to offer
        return []
    cells_needed = length // timedelta(minutes=rules.slot_minutes)
    wished_minute = minute_of_day(starts_at)
    offers: list[Offer] = []
    # The first days usually hold enough offers: read them first, the rest only if needed.
    for window in ((0, FIRST_DAYS), (FIRST_DAYS, SEARCH_DAYS)):
        days = [first + timedelta(days=n) for n in range(*window)]
        grid = availability.grid(resource, days)
        for column in range(len(days)):
            cells = [cells[column] for _minute, cells in grid.rows]
            found = []
            for index in range(len(cells) - cells_needed + 1):
                run = cells[index : index + cells_needed]
                if not all(cell is not None and cell.state == "free" for cell in run):
                    continue
                start = run[0].starts_at
                if start < starts_at or (start == starts_at and not include_wish):
                    continue
                if start > horizon or run[-1].ends_at - start != length:
                    continue
                found.append(start)
            if found:
                if to_local(found[0]).date() == to_local(starts_at).date():
                    best = found[0]
                else:
                    best = min(found, key=lambda s: abs(minute_of_day(s) - wished_minute))
                offers.append(Offer(resource, best, best + length))
            if len(offers) >= limit:
                return offers
    return offers


@dataclass
class Alternatives:
    """What a refusal offers: free times here, free sibling parts, the waiting list."""

    resource: Resource
    starts_at: datetime
    ends_at: datetime
    blocked: list[str]
    here: list[Offer]
    parts: list[Offer]

    @property
    def when(self) -> str:
        return _when(self.starts_at, self.ends_at)

    @property
    def start_param(self) -> str:
        return self.starts_at.strftime("%Y-%m-%dT%H:%MZ")

    @property
    def end_param(self) -> str:
        return self.ends_at.strftime("%Y-%m-%dT%H:%MZ")


def alternatives(
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    club: Club | None = None,
    moving: Booking | None = None,
) -> Alternatives:
    """Everything a refused booking offers instead (see the module docstring); a club
    moving one of its dates (``moving``) is offered times of the same resource only."""
    length = _length(resource, starts_at, ends_at)
    parts = []
    for part in [] if moving is not None else resource.root.parts:
        if part.id == resource.id:
            continue
        found = next_free(part, starts_at, starts_at + length, limit=1, include_wish=True)
        parts.extend(found)
    return Alternatives(
        resource,
        starts_at,
        ends_at,
        blocked_by(resource, starts_at, ends_at, club, moving),
        next_free(resource, starts_at, ends_at),
        sorted(parts, key=lambda offer: (offer.starts_at, offer.resource.name)),
    )
