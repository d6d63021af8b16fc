"""The Belegungsplan: who holds a hall when, one week at a time or a season's regular weekly
times, for the notice board."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select

from buchung.clock import format_hhmm, local_moment, minute_of_day, to_local
from buchung.clock import zone as clock_zone
from buchung.club_models import BookingSeries, Club, Season
from buchung.forms import STATUS_LABELS
from buchung.models import ACTIVE_STATUSES, Booking, BookingKind, Resource
from buchung.services.availability import bookings_between
from buchung.services.rules import closed_intervals, closure_resource_ids
from lotse.csvutil import csv_text
from lotse.extensions import db


def public_club_name(name: str | None, agreed: bool | None) -> str | None:
    """A club's name where the public may read it: the town shows names
    (``BUCHUNG_PUBLIC_CLUB_NAMES``) and the club agreed (``Club.name_public``); else None."""
    if name and agreed and current_app.config["BUCHUNG_PUBLIC_CLUB_NAMES"]:
        return name
    return None


def public_label(booking: Booking) -> str:
    """What the public may read about a booking: "belegt", or the club's public name."""
    club = booking.club
    return (club and public_club_name(club.name, club.name_public)) or _("belegt")


@dataclass(frozen=True)
class Entry:
    starts_at: datetime
    ends_at: datetime
    where: str  # the hall or the part that is taken
    booking: Booking | None = None  # None: a closure, ``title`` says which
    title: str = ""

    @property
    def times(self) -> str:
        """Local ``HH:MM–HH:MM``; a time ending at midnight ends at 24:00, not 00:00; a whole
        day (a closure) reads "ganztägig"."""
        start, end = minute_of_day(self.starts_at), minute_of_day(self.ends_at) or 1440
        if start == 0 and end == 1440:
            return _("ganztägig")
        return f"{format_hhmm(start)}–{format_hhmm(end)}"

    @property
    def public(self) -> str:
        """The entry as the public plan shows it, without personal data."""
        if self.booking is None:
            return _("geschlossen (%(title)s)", title=self.title)
        return public_label(self.booking)


@dataclass
class WeekPlan:
    resource: Resource
    days: list[date]
    entries: dict[date, list[Entry]]


def week_plan(resource: Resource, monday: date) -> WeekPlan:
    """The bookings and closures of ``resource`` (and its parts) in the week from ``monday``.

    Two queries whatever the number of bookings: the active bookings of the week, the
    closures; holidays come from the ``holidays`` package.
    """
    days = [monday + timedelta(days=n) for n in range(7)]
    start, end = local_moment(days[0], 0), local_moment(days[-1], 1440)
    entries: dict[date, list[Entry]] = {day: [] for day in days}
    for booking in bookings_between([resource], start, end):
        day = to_local(booking.starts_at).date()
        entries[day].append(
            Entry(booking.starts_at, booking.ends_at, booking.resource.name, booking)
        )
    for closed in closed_intervals(resource, start, end):
        for day in days:
            if closed.starts_at < local_moment(day, 1440) and local_moment(day, 0) < closed.ends_at:
                entries[day].append(
                    Entry(
                        max(closed.starts_at, local_moment(day, 0)),
                        min(closed.ends_at, local_moment(day, 1440)),
                        resource.name,
                        title=closed.title,
                    )
                )
    for found in entries.values():
        found.sort(key=lambda e: (e.starts_at, e.where))
    return WeekPlan(resource, days, entries)


class PublicEntry(NamedTuple):
    """A line of the public Belegungsplan (page and PDF), its words made once: no booking
    behind it, nothing but what the public may read."""

    starts_at: datetime
    where: str
    times: str  # as ``Entry.times``
    public: str  # as ``Entry.public``


# The public plan's bookings as plain rows: times, the hall or part, the club's name if it
# may be published; built once.
_PUBLIC_ROWS = (
    select(Booking.starts_at, Booking.ends_at, Resource.name, Club.name, Club.name_public)
    .join(Resource, Resource.id == Booking.resource_id)
    .outerjoin(Club, Club.id == Booking.club_id)
    .where(
        Booking.resource_id.in_(bindparam("ids", expanding=True)),
        Booking.status.in_(ACTIVE_STATUSES),
        Booking.starts_at < bindparam("end"),
        Booking.ends_at > bindparam("start"),
    )
    .order_by(Booking.starts_at)
)


def public_week_plan(resource: Resource, monday: date) -> WeekPlan:
    """``week_plan`` as the public reads it, made cheaply: the bookings as plain rows (no
    booking objects, no personal data read), each line's words made once."""
    days = [monday + timedelta(days=n) for n in range(7)]
    bounds = [(local_moment(day, 0), local_moment(day, 1440)) for day in days]
    start, end = bounds[0][0], bounds[-1][1]
    zone = clock_zone()
    taken = _("belegt")

    def times(starts_at: datetime, ends_at: datetime) -> str:
        first, last = starts_at.astimezone(zone), ends_at.astimezone(zone)
        start, end = first.hour * 60 + first.minute, last.hour * 60 + last.minute or 1440
        if start == 0 and end == 1440:
            return _("ganztägig")
        return f"{format_hhmm(start)}–{format_hhmm(end)}"

    entries: dict[date, list] = {day: [] for day in days}
    rows = db.session.execute(
        _PUBLIC_ROWS,
        {"ids": sorted({resource.id, *(p.id for p in resource.parts)}), "start": start, "end": end},
    )
    for starts_at, ends_at, where, club, agreed in rows:
        entries[starts_at.astimezone(zone).date()].append(
            PublicEntry(
                starts_at, where, times(starts_at, ends_at), public_club_name(club, agreed) or taken
            )
        )
    for closed in closed_intervals(resource, start, end):
        label = _("geschlossen (%(title)s)", title=closed.title)
        for day, (midnight, next_midnight) in zip(days, bounds, strict=True):
            if closed.starts_at < next_midnight and midnight < closed.ends_at:
                first = max(closed.starts_at, midnight)
                entries[day].append(
                    PublicEntry(
                        first,
                        resource.name,
                        times(first, min(closed.ends_at, next_midnight)),
                        label,
                    )
                )
    for found in entries.values():
        found.sort(key=lambda e: (e.starts_at, e.where))
    return WeekPlan(resource, days, entries)


def _status(booking: Booking | None) -> str:
    """The German state of a plan entry: "bestätigt", "angefragt", "Blockung", "geschlossen"."""
    if booking is None:
        return _("geschlossen")
    if booking.kind == BookingKind.BLOCKING:
        return _("Blockung")
    return str(STATUS_LABELS[booking.status])


def plan_csv(plan: WeekPlan) -> str:
    """The week plan for the booking office as CSV (semicolons, as German spreadsheets expect)."""
    header = [
        _("Datum"),
        _("Beginn"),
        _("Ende"),
        _("Raum"),
        _("Verein"),
        _("Zweck"),
        _("Kontakt"),
        _("Status"),
    ]
    rows = []
    for day in plan.days:
        for entry in plan.entries[day]:
            booking = entry.booking
            rows.append(
                [
                    f"{day:%d.%m.%Y}",
                    f"{to_local(entry.starts_at):%H:%M}",
                    f"{to_local(entry.ends_at):%H:%M}",
                    entry.where,
                    booking.club.name if booking and booking.club else "",
                    booking.purpose if booking else entry.title,
                    booking.contact_name if booking else "",
                    _status(booking),
                ]
            )
    return csv_text(header, rows)


@dataclass(frozen=True)
class SeasonEntry:
    """A regular weekly time in the season plan."""

    series: BookingSeries
    season: Season
    dates: int  # active dates of the series in the season

    @property
    def period(self) -> tuple[date, date] | None:
        """The series' days within the season, when it starts or ends a week or more apart
        from the season (else the whole season: ``None``)."""
        first = max(self.series.first_day, self.season.first_day)
        last = min(self.series.last_day, self.season.last_day)
        week = timedelta(days=7)
        if first - self.season.first_day >= week or self.season.last_day - last >= week:
            return first, last
        return None

    @property
    def times(self) -> str:
        return f"{format_hhmm(self.series.start_minute)}–{format_hhmm(self.series.end_minute)}"

    @property
    def public(self) -> str:
        """The club's name where the town publishes them, else "belegt"; never a purpose."""
        if current_app.config["BUCHUNG_PUBLIC_CLUB_NAMES"]:
            return self.series.club.name
        return _("belegt")


@dataclass
class SeasonPlan:
    resource: Resource
    season: Season
    weekdays: dict[int, list[SeasonEntry]]
    closed: list[tuple[date, date, str]]  # first day, last day, what


def season_plan(resource: Resource, season: Season) -> SeasonPlan:
    """The regular weekly times of ``resource`` (its hall and parts) in ``season`` and the
    days it is closed: the plan for the notice board at the start of a season.

    Three queries whatever the number of dates: the series with their active dates in the
    season, the closures; holidays come from the ``holidays`` package.
    """
    start, end = local_moment(season.first_day, 0), local_moment(season.last_day, 1440)
    ids = closure_resource_ids(resource)  # a hall with its parts, a part with its hall
    rows = db.session.execute(
        select(BookingSeries, func.count(Booking.id))
        .join(Booking, Booking.series_id == BookingSeries.id)
        .where(
            Booking.resource_id.in_(ids),
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.starts_at >= start,
            Booking.starts_at < end,
        )
        .group_by(BookingSeries.id)
    ).all()
    weekdays: dict[int, list[SeasonEntry]] = {day: [] for day in range(7)}
    for series, dates in rows:
        for weekday in series.weekday_list:
            weekdays[weekday].append(SeasonEntry(series, season, dates))
    for found in weekdays.values():
        found.sort(key=lambda e: (e.series.start_minute, e.series.resource.name))
    return SeasonPlan(resource, season, weekdays, _closed_days(resource, start, end))


def _closed_days(resource: Resource, start: datetime, end: datetime) -> list[tuple]:
    """Closures of the season as runs of local days with one title ("13.10.–24.10.")."""
    runs: list[list] = []
    for closed in closed_intervals(resource, start, end):
        first = to_local(max(closed.starts_at, start)).date()
        last = to_local(min(closed.ends_at, end) - timedelta(minutes=1)).date()
        if runs and runs[-1][2] == closed.title and runs[-1][1] + timedelta(days=1) >= first:
            runs[-1][1] = max(runs[-1][1], last)
        else:
            runs.append([first, last, closed.title])
    return [tuple(run) for run in runs]
