"""Closures (Sperrzeiten): which bookings they hit, and import from iCalendar files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import recurring_ical_events
from icalendar import Calendar
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from buchung.clock import local_moment, local_today, to_local, zone
from buchung.models import ACTIVE_STATUSES, Booking, Closure, Resource
from buchung.services.rules import expand_closure
from lotse.extensions import db
from lotse.models import utcnow

# How far ahead a closure without end date is checked against bookings, and how far
# ahead recurring events of an imported calendar are expanded.
LOOKAHEAD = timedelta(days=730)


def closure_end_bound(closure: Closure) -> datetime:
    """Where a closure ends for checking bookings (a look-ahead for endless weekly ones)."""
    if not closure.weekly:
        return closure.ends_at
    if closure.repeat_until:
        return local_moment(closure.repeat_until, 1440)
    return max(utcnow(), closure.starts_at) + LOOKAHEAD


def closure_period(closure: Closure) -> tuple[datetime | date, datetime | date, bool]:
    """(first, last, whole_days) as people read it: a closure of whole days ends on its
    last day (06.01.), not at midnight after it ("07.01. 00:00")."""
    start, end = to_local(closure.starts_at), to_local(closure.ends_at)
    if start.time() == end.time() == time(0, 0):
        return start.date(), (end - timedelta(days=1)).date(), True
    return start, end, False


def affected_bookings(closure: Closure) -> list[Booking]:
    """Active bookings the closure hits, so staff can inform their bookers."""
    return affected_bookings_of([closure])[0]


def affected_bookings_of(closures: list[Closure]) -> list[list[Booking]]:
    """``affected_bookings`` of each closure (an import's), in one query for all."""
    now = utcnow()
    closed_ids = _closed_ids(closures)
    clauses = []
    for closure in closures:
        clause = (Booking.starts_at < closure_end_bound(closure)) & (
            Booking.ends_at > max(closure.starts_at, now)
        )
        if closure.resource_id is not None:
            clause &= Booking.resource_id.in_(closed_ids[closure.resource_id])
        clauses.append(clause)
    if not clauses:
        return []
    candidates = list(
        db.session.scalars(
            select(Booking)
            .where(Booking.status.in_(ACTIVE_STATUSES), or_(*clauses))
            .order_by(Booking.starts_at, Booking.id)
        )
    )
    return [
        [
            booking
            for booking in candidates
            if (
                closure.resource_id is None
                or booking.resource_id in closed_ids[closure.resource_id]
            )
            and expand_closure(closure, booking.starts_at, booking.ends_at)
        ]
        for closure in closures
    ]


def _closed_ids(closures: list[Closure]) -> dict[int, set[int]]:
    """By closed resource: what a closure of it closes (itself, its hall and its parts)."""
    ids = {c.resource_id for c in closures if c.resource_id is not None}
    if not ids:
        return {}
    resources = db.session.scalars(
        select(Resource)
        .where(Resource.id.in_(ids))
        .options(joinedload(Resource.parent), selectinload(Resource.parts))
    )
    return {r.id: {r.id, r.root.id, *(p.id for p in r.parts)} for r in resources}


def _as_utc(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating time: the town's wall clock
            value = value.replace(tzinfo=zone())
        return value.astimezone(UTC)
    return local_moment(value, 0)


@dataclass
class PlannedClosure:
    """One closure an imported calendar creates or updates (for one resource, or all)."""

    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime
    resource: Resource | None
    existing: Closure | None

    @property
    def action(self) -> str:
        return "update" if self.existing is not None else "create"


def plan_import(data: bytes, resources: list[Resource] | None = None) -> list[PlannedClosure]:
    """What importing an iCalendar file would do: one closure per event (occurrence) and
    per chosen resource (or one for all resources).  Raises ``ValueError`` for a file that
    is no calendar.

    Events are matched by UID (and start, for recurring ones, and the resource when one is
    chosen), so importing the same school-holiday file again changes nothing.
    """
    calendar = Calendar.from_ical(data)
    today = local_today()
    events = recurring_ical_events.of(calendar).between(
        today - timedelta(days=365), today + LOOKAHEAD
    )
    planned = []
    for event in events:
        start = event.decoded("dtstart")
        end = event.decoded("dtend") if "dtend" in event else None
        if end is None:
            end = start + timedelta(days=1) if not isinstance(start, datetime) else start
        starts_at, ends_at = _as_utc(start), _as_utc(end)
        if ends_at <= starts_at:
            continue
        base = f"{event.get('uid', '')}#{starts_at.isoformat()}"
        for resource in resources or [None]:
            uid = (base if resource is None else f"{base}#r{resource.id}")[:255]
            planned.append(
                PlannedClosure(
                    uid,
                    str(event.get("summary", "Sperrzeit"))[:200],
                    starts_at,
                    ends_at,
                    resource,
                    db.session.scalar(select(Closure).where(Closure.ical_uid == uid)),
                )
            )
    return sorted(planned, key=lambda p: (p.starts_at, p.resource.name if p.resource else ""))


def apply_import(planned: list[PlannedClosure]) -> list[Closure]:
    """Create or update the planned closures; returns them (flushed)."""
    closures = []
    for item in planned:
        closure = item.existing
        if closure is None:
            closure = Closure(ical_uid=item.uid, weekly=False)
            db.session.add(closure)
        closure.title = item.title
        closure.starts_at, closure.ends_at = item.starts_at, item.ends_at
        closure.resource_id = item.resource.id if item.resource else None
        closures.append(closure)
    db.session.flush()
    return closures


def import_calendar(data: bytes, resource: Resource | None = None) -> tuple[int, int]:
    """Create or update one closure per event of an iCalendar file; (created, updated)."""
    planned = plan_import(data, [resource] if resource else None)
    apply_import(planned)
    created = sum(1 for p in planned if p.action == "create")
    return created, len(planned) - created
