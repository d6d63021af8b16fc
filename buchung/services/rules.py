"""The rules a booking must keep: grid, opening hours, durations, horizon, closures, access.

Every function works on UTC moments and half-open intervals ``[start, end)``; the one
overlap predicate is ``start < other_end and other_start < end``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, or_, select

from buchung.clock import local_moment, to_local
from buchung.models import Access, Closure, Resource
from lotse.extensions import db
from lotse.models import utcnow

Interval = tuple[datetime, datetime]


def overlaps(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> bool:
    """Half-open overlap: touching intervals (10–11, 11–12) do not overlap."""
    return start < other_end and other_start < end


@dataclass(frozen=True)
class ClosedInterval:
    starts_at: datetime
    ends_at: datetime
    title: str


@dataclass(frozen=True)
class RuleViolation:
    """A broken rule, tied to the form field it belongs to (``None``: the whole form)."""

    field: str | None
    message: str


def _local_days(start: datetime, end: datetime) -> list[date]:
    first, last = to_local(start).date(), to_local(end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def open_intervals(resource: Resource, start: datetime, end: datetime) -> list[Interval]:
    """The resource's opening hours that touch ``[start, end)``, as sorted UTC intervals."""
    hours = resource.root.opening_hours
    found = []
    for day in _local_days(start, end):
        for row in hours:
            if row.weekday == day.weekday():
                opens = local_moment(day, row.opens_minute)
                closes = local_moment(day, row.closes_minute)
                if overlaps(start, end, opens, closes):
                    found.append((opens, closes))
    return sorted(found)


def is_covered(start: datetime, end: datetime, intervals: list[Interval]) -> bool:
    """Whether sorted ``intervals`` together cover ``[start, end)`` without a gap."""
    reached = start
    for opens, closes in intervals:
        if opens > reached:
            break
        reached = max(reached, closes)
        if reached >= end:
            return True
    return reached >= end


@lru_cache(maxsize=64)
def _holidays(state: str, year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("DE", subdiv=state, years=year, language="de"))


def public_holidays(first: date, last: date) -> dict[date, str]:
    """The Feiertage of the configured Bundesland between two local dates (inclusive)."""
    state = current_app.config["TOWN_STATE"]
    found: dict[date, str] = {}
    for year in range(first.year, last.year + 1):
        found.update(
            (day, name) for day, name in _holidays(state, year).items() if first <= day <= last
        )
    return found


def closure_resource_ids(resource: Resource) -> set[int]:
    """Closures of these resources close ``resource``: itself, its hall and its parts."""
    return {resource.id, resource.root.id, *resource.unit_ids()}


def expand_closure(closure: Closure, start: datetime, end: datetime) -> list[Interval]:
    """The closed intervals of one (possibly weekly) closure that overlap ``[start, end)``."""
    if not closure.weekly:
        if overlaps(start, end, closure.starts_at, closure.ends_at):
            return [(closure.starts_at, closure.ends_at)]
        return []
    # Weekly closures repeat at the same local wall-clock time, across DST changes.
    first = to_local(closure.starts_at).replace(tzinfo=None)
    length = to_local(closure.ends_at).replace(tzinfo=None) - first
    window_start = to_local(start).replace(tzinfo=None)
    week = max(0, (window_start - first - length).days // 7)
    found = []
    while True:
        wall = first + timedelta(weeks=week)
        if closure.repeat_until and wall.date() > closure.repeat_until:
            break
        occurrence = (_wall_to_utc(wall), _wall_to_utc(wall + length))
        if occurrence[0] >= end:
            break
        if overlaps(start, end, *occurrence):
            found.append(occurrence)
        week += 1
    return found


def _wall_to_utc(wall: datetime) -> datetime:
    return local_moment(wall.date(), wall.hour * 60 + wall.minute)


def closures_query(resource_ids: set[int] | None, start: datetime, end: datetime):
    """Closures that may close something in ``[start, end)``; ``None`` ids: any resource."""
    query = select(Closure).where(
        Closure.starts_at < end,
        or_(Closure.ends_at > start, Closure.weekly.is_(True)),
        or_(Closure.repeat_until.is_(None), Closure.repeat_until >= to_local(start).date()),
    )
    if resource_ids is not None:
        query = query.where(
            or_(Closure.resource_id.is_(None), Closure.resource_id.in_(resource_ids))
        )
    return query.order_by(Closure.starts_at)


# The closures that may close some resources during [start, end), read as plain rows (times,
# repetition and title: all that ``expand_closure`` and the pages read); built once.
_CLOSURE_ROWS = (
    select(Closure.starts_at, Closure.ends_at, Closure.weekly, Closure.repeat_until, Closure.title)
    .where(
        Closure.starts_at < bindparam("end"),
        or_(Closure.ends_at > bindparam("start"), Closure.weekly.is_(True)),
        or_(Closure.repeat_until.is_(None), Closure.repeat_until >= bindparam("first_day")),
        or_(
            Closure.resource_id.is_(None), Closure.resource_id.in_(bindparam("ids", expanding=True))
        ),
    )
    .order_by(Closure.starts_at)
)


def closed_intervals(resource: Resource, start: datetime, end: datetime) -> list[ClosedInterval]:
    """Every closure and public holiday that closes ``resource`` during ``[start, end)``."""
    rows = db.session.execute(
        _CLOSURE_ROWS,
        {
            "start": start,
            "end": end,
            "first_day": to_local(start).date(),
            "ids": sorted(closure_resource_ids(resource)),
        },
    )
    found = [
        ClosedInterval(s, e, row.title) for row in rows for s, e in expand_closure(row, start, end)
    ]
    if current_app.config["BUCHUNG_CLOSED_ON_HOLIDAYS"]:
        days = _local_days(start, end)
        for day, name in public_holidays(days[0], days[-1]).items():
            found.append(
                ClosedInterval(
                    local_moment(day, 0),
                    local_moment(day, 1440),
                    _("Feiertag: %(name)s", name=name),
                )
            )
    return sorted(found, key=lambda c: c.starts_at)


def _on_grid(moment: datetime, minutes: int) -> bool:
    return (
        moment.second == 0 and moment.microsecond == 0 and (moment.timestamp() // 60) % minutes == 0
    )


def check_booking(
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    *,
    attendees: int | None = None,
    staff: bool = False,
    club: bool = False,
    now: datetime | None = None,
    closed: list[ClosedInterval] | None = None,
    horizon: bool = True,
) -> list[RuleViolation]:
    """Everything wrong with booking ``resource`` for ``[starts_at, ends_at)``, in German.

    Staff (booking on behalf of a caller, or blocking) may book outside the public rules;
    only the time grid and a sensible order of start and end still apply to them.  An
    approved ``club`` may book club-only resources and plan a season ahead.  ``closed``:
    the resource's ``closed_intervals`` read once for a range holding this time (a
    series), instead of reading them again for each date.  ``horizon=False``: the office
    books a season it allocated to its end; the horizon limits only what others book.
    """
    rules = resource.root
    problems: list[RuleViolation] = []
    if ends_at <= starts_at:
        return [RuleViolation("end", _l("Das Ende muss nach dem Beginn liegen."))]
    for field, moment in (("start", starts_at), ("end", ends_at)):
        if not _on_grid(moment, rules.slot_minutes):
            problems.append(
                RuleViolation(
                    field,
                    _l(
                        "Bitte wählen Sie eine Uhrzeit im Raster von %(minutes)s Minuten.",
                        minutes=rules.slot_minutes,
                    ),
                )
            )
    if staff or problems:
        return problems

    now = now or utcnow()
    horizon_days = rules.horizon_days
    if club:
        horizon_days = max(horizon_days, current_app.config["BUCHUNG_CLUB_HORIZON_DAYS"])
    minutes = (ends_at - starts_at) // timedelta(minutes=1)
    if starts_at < now:
        problems.append(RuleViolation("date", _l("Dieser Termin liegt in der Vergangenheit.")))
    elif horizon and starts_at > now + timedelta(days=horizon_days):
        problems.append(
            RuleViolation(
                "date",
                _l(
                    "Buchungen sind höchstens %(days)s Tage im Voraus möglich.",
                    days=horizon_days,
                ),
            )
        )
    if minutes < rules.min_minutes:
        problems.append(
            RuleViolation(
                "end",
                _l(
                    "Eine Buchung dauert mindestens %(minutes)s Minuten.", minutes=rules.min_minutes
                ),
            )
        )
    elif minutes > rules.max_minutes:
        problems.append(
            RuleViolation(
                "end",
                _l("Eine Buchung dauert höchstens %(minutes)s Minuten.", minutes=rules.max_minutes),
            )
        )
    if not is_covered(starts_at, ends_at, open_intervals(resource, starts_at, ends_at)):
        problems.append(
            RuleViolation("start", _l("Diese Zeit liegt außerhalb der Öffnungszeiten."))
        )
    if closed is None:
        closed = closed_intervals(resource, starts_at, ends_at)
    hit = next((c for c in closed if overlaps(starts_at, ends_at, c.starts_at, c.ends_at)), None)
    if hit is not None:
        problems.append(
            RuleViolation("date", _l("In dieser Zeit ist geschlossen: %(title)s.", title=hit.title))
        )
    if attendees and resource.capacity and attendees > resource.capacity:
        problems.append(
            RuleViolation(
                "attendees",
                _l("Hier haben höchstens %(capacity)s Personen Platz.", capacity=resource.capacity),
            )
        )
    if rules.access == Access.STAFF:
        problems.append(
            RuleViolation(None, _l("Diesen Raum vergibt nur das Buchungsbüro. Bitte rufen Sie an."))
        )
    elif rules.access == Access.CLUBS and not club:
        problems.append(RuleViolation(None, _l("Diesen Raum können nur Vereine buchen.")))
    return problems
