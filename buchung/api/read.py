"""Reading the booking API: halls and rooms, free and busy times, the public plan.

Nothing here names a person: bookings appear as busy time, on the plan with the public
label only ("belegt", or a club's name where the town shows names and the club agreed).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import get_day_names
from flask import current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from buchung.api import ApiError, bp, cached_json
from buchung.clock import format_hhmm, local_moment, local_today, to_local, zone
from buchung.fees.models import Tariff
from buchung.fees.pricing import current_tariffs, tariffs_in_force
from buchung.models import Access, Booking, BookingSlot, BookingStatus, Club, Resource
from buchung.services.freebusy import free_busy
from buchung.services.plan import public_club_name
from buchung.services.rules import (
    closure_resource_ids,
    closures_query,
    expand_closure,
    public_holidays,
)
from lotse.extensions import db
from lotse.urls import public_url

MAX_DAYS = 92  # a quarter: enough for a season's overview, small enough to answer fast
DEFAULT_DAYS = 7
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def stamp(moment: datetime) -> str:
    """A moment as local ISO 8601 with its offset, e.g. ``2026-12-07T18:00:00+01:00``."""
    return to_local(moment).isoformat(timespec="seconds")


def stamper():
    """``stamp`` for many moments: the zone read once, each moment written once (the
    whole hall and its parts share most of their boundaries)."""
    local, seen = zone(), {}

    def write(moment: datetime) -> str:
        found = seen.get(moment)
        if found is None:
            found = seen[moment] = moment.astimezone(local).isoformat(timespec="seconds")
        return found

    return write


def _date_arg(name: str, default: date) -> date:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ApiError(
            400, "invalid_date", f"'{name}' must be a date like 2026-12-07, not '{value}'."
        ) from None
    if not EARLIEST <= day <= LATEST:
        raise ApiError(
            400, "date_out_of_range", f"'{name}' must lie between {EARLIEST} and {LATEST}."
        )
    return day


def date_range(default_days: int = DEFAULT_DAYS) -> tuple[date, date]:
    """``from`` and ``to`` (inclusive local days) of the query: a week from today by default,
    at most ``MAX_DAYS``."""
    first = _date_arg("from", local_today())
    last = _date_arg("to", min(first + timedelta(days=default_days - 1), LATEST))
    if last < first:
        raise ApiError(400, "invalid_range", "'to' must not be before 'from'.")
    if (last - first).days + 1 > MAX_DAYS:
        raise ApiError(
            400, "range_too_long", f"A range covers at most {MAX_DAYS} days; ask in steps."
        )
    return first, last


def listed_halls():
    """Active halls and rooms the public may see (top level; parts come with their hall)."""
    return (
        select(Resource)
        .where(Resource.active.is_(True), Resource.parent_id.is_(None))
        .order_by(Resource.name, Resource.id)
    )


def hall_or_404(resource_id: int) -> Resource:
    resource = db.session.get(Resource, resource_id)
    if resource is None or not resource.active or not resource.root.active:
        raise ApiError(404, "resource_not_found", f"There is no hall or room {resource_id}.")
    if resource.parent is not None:
        raise ApiError(
            404,
            "resource_not_found",
            f"{resource_id} is a part of hall {resource.parent.id}; ask for the hall.",
        )
    return resource


def hours_in_words(resource: Resource) -> str:
    """Opening hours as people write them, e.g. "Mo.–Fr. 16:00–22:00, Sa. 09:00–18:00";
    weekdays with the same hours are joined."""
    names = get_day_names("abbreviated", locale=get_locale())
    by_day: dict[int, list[str]] = {day: [] for day in range(7)}
    for row in resource.root.opening_hours:
        by_day[row.weekday].append(
            f"{format_hhmm(row.opens_minute)}–{format_hhmm(row.closes_minute)}"
        )
    groups: list[tuple[int, int, str]] = []
    for day in range(7):
        hours = ", ".join(by_day[day])
        if groups and groups[-1][2] == hours and groups[-1][1] == day - 1:
            groups[-1] = (groups[-1][0], day, hours)
        else:
            groups.append((day, day, hours))
    parts = []
    for first, last, hours in groups:
        if not hours:
            continue
        days = names[first] if first == last else f"{names[first]}–{names[last]}"
        if last == first + 1:
            days = f"{names[first]}, {names[last]}"
        parts.append(f"{days} {hours}")
    return "; ".join(parts) if parts else _("keine regelmäßigen Öffnungszeiten")


def resource_json(resource: Resource, tariffs: list[tuple[str, Tariff]]) -> dict:
    """A hall or room as the API shows it: facts and rules, never who booked it."""
    return {
        "id": resource.id,
        "name": resource.name,
        "kind": resource.kind,
        "description": resource.description,
        "capacity": resource.capacity,
        "equipment": resource.equipment_items(),
        "accessibility": resource.accessibility,
        "address": resource.address,
        "location": (
            {"lat": resource.lat, "lon": resource.lon}
            if resource.lat is not None and resource.lon is not None
            else None
        ),
        "access": resource.access,
        "bookable_online": resource.access != Access.STAFF,
        "needs_approval": resource.needs_approval,
        "rules": {
            "grid_minutes": resource.slot_minutes,
            "min_minutes": resource.min_minutes,
            "max_minutes": resource.max_minutes,
            "horizon_days": resource.horizon_days,
        },
        "fees": [
            {
                "group": tariff.group_key,
                "group_name": name,
                "unit": str(tariff.unit),
                "amount_cents": tariff.amount_cents,
            }
            for name, tariff in tariffs
        ],
        "opening_hours": [
            {
                "weekday": row.weekday,
                "opens": format_hhmm(row.opens_minute),
                "closes": format_hhmm(row.closes_minute),
            }
            for row in resource.opening_hours
        ],
        "opening_hours_text": hours_in_words(resource),
        "parts": [
            {
                "id": part.id,
                "name": part.name,
                "capacity": part.capacity,
                "description": part.description,
            }
            for part in resource.parts
        ],
        "links": {
            "self": public_url("buchung_api.resource", resource_id=resource.id),
            "availability": public_url("buchung_api.availability", resource_id=resource.id),
            "plan": public_url("buchung_api.plan", resource_id=resource.id),
            "web": public_url("buchung.resource_page", resource_id=resource.id),
            "calendar": public_url("buchung_feeds.resource", resource_id=resource.id),
        },
    }


@bp.route("/resources")
def resources():
    """Every hall and room with its parts, rules and opening hours."""
    found = list(
        db.session.scalars(
            listed_halls().options(
                selectinload(Resource.parts), selectinload(Resource.opening_hours)
            )
        )
    )
    tariffs = tariffs_in_force(found)
    return cached_json({"resources": [resource_json(r, tariffs[r.id]) for r in found]}, max_age=300)


@bp.route("/resources/<int:resource_id>")
def resource(resource_id: int):
    """One hall or room."""
    found = hall_or_404(resource_id)
    return cached_json(resource_json(found, current_tariffs(found)), max_age=300)


def _spans(intervals, write) -> list[dict]:
    return [{"start": write(s), "end": write(e)} for s, e in intervals]


@bp.route("/resources/<int:resource_id>/availability")
def availability(resource_id: int):
    """Free and busy times of a hall and each of its parts, day range ``from``–``to``."""
    hall = hall_or_404(resource_id)
    first, last = date_range()
    units = free_busy(hall, first, last)
    write = stamper()
    return cached_json(
        {
            "resource_id": hall.id,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "timezone": current_app.config["TIMEZONE"],
            "units": [
                {
                    "id": unit.resource.id,
                    "name": unit.resource.name,
                    "whole": unit.resource.id == hall.id,
                    "free": _spans(unit.free, write),
                    "busy": _spans(unit.busy, write),
                    "closed": [
                        {"start": write(c.starts_at), "end": write(c.ends_at), "reason": c.title}
                        for c in unit.closed
                    ],
                }
                for unit in units
            ],
        },
        max_age=60,
    )


def _resource_filter() -> int | None:
    value = request.args.get("resource_id")
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 12:
        raise ApiError(400, "invalid_resource_id", "'resource_id' must be a number.")
    return int(value)


def _entry(resource: Resource, start, end, kind: str, label: str, tentative=False) -> tuple:
    """(UTC start, plan entry): sorted by the moment, not by its local text."""
    return (
        start,
        resource.root.id,
        resource.id,
        {
            "resource_id": resource.id,
            "hall_id": resource.root.id,
            "resource_name": resource.name,
            "start": stamp(start),
            "end": stamp(end),
            "kind": kind,
            "label": label,
            "tentative": tentative,
        },
    )


def _closure_entries(halls: list[Resource], start: datetime, end: datetime) -> list[tuple]:
    """Closures and holidays of these halls in one query (holidays from the calendar)."""
    closures = list(db.session.scalars(closures_query(None, start, end)))
    holidays = {}
    if current_app.config["BUCHUNG_CLOSED_ON_HOLIDAYS"]:
        first, last = to_local(start).date(), to_local(end - timedelta(seconds=1)).date()
        holidays = public_holidays(first, last)
    entries = []
    for hall in halls:
        ids = closure_resource_ids(hall)
        spans = [
            (s, e, closure.title)
            for closure in closures
            if closure.resource_id is None or closure.resource_id in ids
            for s, e in expand_closure(closure, start, end)
        ]
        spans += [(local_moment(d, 0), local_moment(d, 1440), n) for d, n in holidays.items()]
        entries += [
            _entry(hall, s, e, "closure", _("geschlossen (%(title)s)", title=title))
            for s, e, title in spans
        ]
    return entries


def _booking_entries(halls: list[Resource], start: datetime, end: datetime) -> list[tuple]:
    """The active bookings of these halls in ``[start, end)`` as plan entries: found through
    the slot table's primary key (the scan covers the range only, not every earlier
    booking), read as plain columns with the club's name and consent."""
    resources = {unit.id: unit for hall in halls for unit in (hall, *hall.parts)}
    units = [unit for hall in halls for unit in hall.unit_ids()]
    held = select(BookingSlot.booking_id).where(
        BookingSlot.unit_id.in_(units),
        BookingSlot.slot_start >= start,
        BookingSlot.slot_start < end,
    )
    rows = db.session.execute(
        select(
            Booking.resource_id,
            Booking.starts_at,
            Booking.ends_at,
            Booking.status,
            Club.name,
            Club.name_public,
        )
        .outerjoin(Club, Booking.club_id == Club.id)
        .where(Booking.id.in_(held))
    )
    anonymous = _("belegt")
    return [
        _entry(
            resources[resource_id],
            starts_at,
            ends_at,
            "booking",
            public_club_name(club, agreed) or anonymous,
            status != BookingStatus.CONFIRMED,
        )
        for resource_id, starts_at, ends_at, status, club, agreed in rows
    ]


@bp.route("/plan")
def plan():
    """The public Belegungsplan: busy blocks with their public label, and closures."""
    resource_id = _resource_filter()
    first, last = date_range()
    start, end = local_moment(first, 0), local_moment(last, 1440)
    if resource_id is None:
        halls = list(db.session.scalars(listed_halls().options(selectinload(Resource.parts))))
    else:
        halls = [hall_or_404(resource_id)]
    entries = _booking_entries(halls, start, end)
    entries += _closure_entries(halls, start, end)
    entries.sort(key=lambda found: found[:3])
    return cached_json(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "timezone": current_app.config["TIMEZONE"],
            "entries": [entry for *_key, entry in entries],
        },
        max_age=300,
    )
