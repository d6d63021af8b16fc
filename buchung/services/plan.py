"""The Belegungsplan: who holds a hall when, one week at a time, for the notice board."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _

from buchung.clock import format_hhmm, local_moment, minute_of_day, to_local
from buchung.models import Booking, Resource
from buchung.services.availability import bookings_between
from buchung.services.rules import closed_intervals
from lotse.csvutil import csv_text


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


def plan_csv(plan: WeekPlan) -> str:
    """The week plan for the booking office as CSV (semicolons, as German spreadsheets expect)."""
    header = ["Datum", "Beginn", "Ende", "Raum", "Verein", "Zweck", "Kontakt", "Status"]
    rows = []
    for day in plan.days:
        for entry in plan.entries[day]:
            booking = entry.booking
            rows.append(
                [
                    day.isoformat(),
                    f"{to_local(entry.starts_at):%H:%M}",
                    f"{to_local(entry.ends_at):%H:%M}",
                    entry.where,
                    booking.club.name if booking and booking.club else "",
                    booking.purpose if booking else entry.title,
                    booking.contact_name if booking else "",
                    booking.status if booking else "geschlossen",
                ]
            )
    return csv_text(header, rows)
