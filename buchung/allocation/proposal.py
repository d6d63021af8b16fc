"""The allocation proposal: who gets which weekly session, and why.

The order of decisions, all deterministic:

1. Priority classes one after the other, the highest (lowest ``rank``) first: a lower
   class never takes a time a higher class wished for and could get.  A claimed class
   that needs evidence counts only once the office confirmed it (``effective_classes``).
2. Within a class, first choices of every applicant before any second choice.
3. Within a class and choice, applicants take turns, one session per turn: the turn goes
   to the applicant with the fewest minutes granted in this class so far, ties broken by
   a lottery number derived from round and applicant (not by who applied first or by
   database id).  Equal-priority applicants so get a fair share of hours; with the
   round's ``turns`` set to teams, minutes are divided by the applicant's number of
   applications in the class, so a club with three teams gets three shares; set to
   members, by the club's member count (``turn_weights``).
4. An application's session goes to its best free candidate: halls in the applicant's
   order, then weekdays in week order; one session per weekday and application.
5. A candidate fails when it is outside the opening hours or time grid, closed on most
   of the season's dates (holidays alone only skip single dates at publishing), held by an
   existing booking on most dates, over the applicant's weekly quota for the hall, or
   overlaps a session granted before (in any unit of a divisible hall).

Every failed candidate that ranked above what the application got is kept as an
``AllocationNote`` with its reason; every allocation explains itself.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction

from sqlalchemy import delete, insert, select

from buchung.allocation.models import (
    Allocation,
    AllocationNote,
    AllocationRequest,
    AllocationRound,
    NoteReason,
    PriorityClass,
    Turns,
)
from buchung.clock import format_hhmm, local_moment, to_local
from buchung.club_models import WEEKDAY_SHORT
from buchung.models import Resource
from buchung.opening import hours_number
from buchung.services.availability import taken_units
from buchung.services.booking import slot_starts
from buchung.services.quotas import season_quotas
from buchung.services.rules import (
    ClosedInterval,
    closed_intervals,
    is_covered,
    open_intervals,
    overlaps,
)
from lotse.extensions import db
from lotse.models import utcnow


@dataclass
class Placed:
    """A session granted in this proposal (or fixed by hand), as the occupancy sees it."""

    request_id: int
    units: frozenset[int]
    weekday: int
    start: int
    end: int
    class_rank: int
    class_name: str


@dataclass
class Blocked:
    reason: NoteReason
    detail: str = ""


@dataclass
class Occupancy:
    """Sessions placed so far, per unit and weekday, to find overlaps quickly."""

    by_unit_day: dict[tuple[int, int], list[Placed]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def clash(self, units: frozenset[int], weekday: int, start: int, end: int) -> Placed | None:
        for unit in units:
            for placed in self.by_unit_day[(unit, weekday)]:
                if start < placed.end and placed.start < end:
                    return placed
        return None

    def add(self, placed: Placed) -> None:
        for unit in placed.units:
            self.by_unit_day[(unit, placed.weekday)].append(placed)


class SeasonCalendar:
    """Per hall: whether a weekly time is open, closed or booked over the season (cached)."""

    def __init__(self, first_day: date, last_day: date):
        self.days_by_weekday: dict[int, list[date]] = defaultdict(list)
        day = first_day
        while day <= last_day:
            self.days_by_weekday[day.weekday()].append(day)
            day += timedelta(days=1)
        self.start = local_moment(first_day, 0)
        self.end = local_moment(last_day, 1440)
        self._closed: dict[int, dict[date, list[ClosedInterval]]] = {}
        self._taken: dict[int, Counter] = {}
        self._checked: dict[tuple[int, int, int, int], Blocked | None] = {}
        self._moments: dict[tuple[date, int], datetime] = {}

    def blocked(self, resource: Resource, weekday: int, start: int, end: int) -> Blocked | None:
        """Why ``resource`` cannot be had weekly at ``weekday`` ``start``–``end``, if it cannot."""
        key = (resource.id, weekday, start, end)
        if key not in self._checked:
            self._checked[key] = self._check(resource, weekday, start, end)
        return self._checked[key]

    def _check(self, resource: Resource, weekday: int, start: int, end: int) -> Blocked | None:
        days = self.days_by_weekday.get(weekday, [])
        rules = resource.root
        minutes = end - start
        if (
            not days
            or start % rules.slot_minutes
            or minutes % rules.slot_minutes
            or not rules.min_minutes <= minutes <= rules.max_minutes
        ):
            return Blocked(NoteReason.OUTSIDE_HOURS)
        first_s, first_e = self._moment(days[0], start), self._moment(days[0], end)
        if not is_covered(first_s, first_e, open_intervals(resource, first_s, first_e)):
            return Blocked(NoteReason.OUTSIDE_HOURS)
        if resource.id not in self._closed:
            self._load(resource)
        closed, taken = self._closed[resource.id], self._taken[resource.id]
        closed_titles: list[str] = []
        booked = 0
        for day in days:
            s, e = self._moment(day, start), self._moment(day, end)
            hit = next(
                (c for c in closed.get(day, ()) if overlaps(s, e, c.starts_at, c.ends_at)), None
            )
            if hit is not None:
                closed_titles.append(hit.title)
            elif taken and any(taken.get(slot) for slot in slot_starts(s, e)):
                booked += 1
        if len(closed_titles) * 2 > len(days):
            return Blocked(NoteReason.CLOSURE, max(set(closed_titles), key=closed_titles.count))
        if booked * 2 > len(days):
            return Blocked(NoteReason.BOOKED)
        return None

    def _moment(self, day: date, minute: int) -> datetime:
        """``local_moment``, cached: candidates share their dates and times."""
        key = (day, minute)
        if key not in self._moments:
            self._moments[key] = local_moment(day, minute)
        return self._moments[key]

    def _load(self, resource: Resource) -> None:
        """Closures and holidays by local day, and held slots, of one hall for the season."""
        by_day: dict[date, list[ClosedInterval]] = defaultdict(list)
        for closed in closed_intervals(resource, self.start, self.end):
            day = to_local(closed.starts_at).date()
            while day <= to_local(closed.ends_at - timedelta(microseconds=1)).date():
                by_day[day].append(closed)
                day += timedelta(days=1)
        self._closed[resource.id] = by_day
        self._taken[resource.id] = taken_units(resource, self.start, self.end)


def lottery(round_id: int, club_id: int) -> str:
    """A fixed, fair tie-breaker between equal applicants of one round."""
    return hashlib.sha256(f"allocation:{round_id}:{club_id}".encode()).hexdigest()


def hours(minutes: int) -> str:
    """Hours as a German number through Babel: ``3``, ``2,5``."""
    return hours_number(minutes)


def describe_time(weekday: int, start: int, end: int) -> str:
    return f"{WEEKDAY_SHORT[weekday]} {format_hhmm(start)}–{format_hhmm(end)}"


def effective_classes(
    requests: list[AllocationRequest], classes: list[PriorityClass] | None = None
) -> dict[int, PriorityClass]:
    """The class each application counts in: its claimed one, or while a claim that needs
    evidence is unconfirmed, the next class open to clubs that needs none.  ``classes``:
    every class by rank, when the caller has read them already (a page of applications)."""
    if classes is None:
        classes = list(db.session.scalars(select(PriorityClass).order_by(PriorityClass.rank)))
    found = {}
    for request in requests:
        claimed = request.priority_class
        if request.class_pending:
            claimed = next(
                (
                    c
                    for c in classes
                    if c.rank > claimed.rank and c.open_to_clubs and not c.needs_evidence
                ),
                claimed,
            )
        found[request.id] = claimed
    return found


def turn_weights(requests: list[AllocationRequest], turns: str) -> dict[int, int]:
    """Each applicant's share among the equal-priority ``requests``: 1 each (per club), its
    number of applications (teams), or its member count (members).  An applicant whose
    member count nobody entered counts like the smallest applicant with one, so that a
    missing number neither wipes a club out nor favours it."""
    club_ids = sorted({r.club_id for r in requests})
    if turns == Turns.TEAMS:
        return dict(Counter(r.club_id for r in requests))
    if turns == Turns.MEMBERS:
        counts = {r.club_id: r.club.member_count for r in requests}
        known = [n for n in counts.values() if n]
        fallback = min(known, default=1)
        return {c: counts[c] or fallback for c in club_ids}
    return dict.fromkeys(club_ids, 1)


class Proposer:
    """Works one round: see the module docstring for the order of decisions."""

    def __init__(self, round_: AllocationRound):
        self.round = round_
        self.classes = effective_classes(round_.requests)
        season = round_.season
        self.calendar = SeasonCalendar(season.first_day, season.last_day)
        self.occupancy = Occupancy()
        self.granted: dict[int, list[Allocation]] = defaultdict(list)
        self.failures: dict[int, dict[tuple[int, int, int], Blocked]] = defaultdict(dict)
        self.quota_used: dict[tuple[int, int], int] = defaultdict(int)
        club_ids = {r.club_id for r in round_.requests}
        self.quotas = season_quotas(club_ids, season)

    def run(self) -> list[Allocation]:
        classes: dict[tuple[int, int], list[AllocationRequest]] = defaultdict(list)
        for request in self.round.requests:
            pc = self.classes[request.id]
            classes[(pc.rank, pc.id)].append(request)
        for key in sorted(classes):
            requests = classes[key]
            minutes_by_club: dict[int, int] = defaultdict(int)
            for choice in (1, 2):
                self._take_turns(requests, choice, minutes_by_club)
        return [a for allocations in self.granted.values() for a in allocations]

    def _take_turns(
        self, requests: list[AllocationRequest], choice: int, minutes_by_club: dict[int, int]
    ) -> None:
        exhausted: set[int] = set()
        weights = turn_weights(requests, self.round.turns)
        while True:
            open_requests = [
                r
                for r in requests
                if r.id not in exhausted and len(self.granted[r.id]) < r.sessions_per_week
            ]
            if not open_requests:
                return
            club_id = min(
                {r.club_id for r in open_requests},
                key=lambda c: (
                    Fraction(minutes_by_club[c], weights[c]),
                    lottery(self.round.id, c),
                ),
            )
            request = min(
                (r for r in open_requests if r.club_id == club_id),
                key=lambda r: (
                    sum(a.minutes for a in self.granted[r.id]) / r.requested_minutes,
                    r.id,
                ),
            )
            allocation = self._place_one(request, choice, minutes_by_club[club_id])
            if allocation is None:
                exhausted.add(request.id)
            else:
                minutes_by_club[club_id] += allocation.minutes

    def _place_one(
        self, request: AllocationRequest, choice: int, minutes_before: int
    ) -> Allocation | None:
        wishes = [c for c in request.choices() if c[0] == choice]
        if not wishes:
            return None
        _choice, weekdays, start = wishes[0]
        end = start + request.duration_minutes
        if end > 1440:
            return None
        taken_days = {a.weekday for a in self.granted[request.id]}
        for hall in request.halls:
            for weekday in sorted(set(weekdays) - taken_days):
                blocked = self._blocked(request, hall.resource, weekday, start, end)
                if blocked is not None:
                    self.failures[request.id][(choice, hall.resource_id, weekday)] = blocked
                    continue
                return self._grant(
                    request, hall.resource, hall.rank, choice, weekday, start, end, minutes_before
                )
        return None

    def _blocked(
        self, request: AllocationRequest, resource: Resource, weekday: int, start: int, end: int
    ) -> Blocked | None:
        blocked = self.calendar.blocked(resource, weekday, start, end)
        if blocked is not None:
            return blocked
        clash = self.occupancy.clash(frozenset(resource.unit_ids()), weekday, start, end)
        if clash is not None:
            if clash.class_rank < self.classes[request.id].rank:
                return Blocked(NoteReason.HIGHER_CLASS, clash.class_name)
            return Blocked(NoteReason.SAME_CLASS, clash.class_name)
        quota = self.quotas.get((request.club_id, resource.root.id))
        used = self.quota_used[(request.club_id, resource.root.id)]
        if quota is not None and used + end - start > quota:
            return Blocked(NoteReason.QUOTA, hours(quota))
        return None

    def _grant(
        self,
        request: AllocationRequest,
        resource: Resource,
        hall_rank: int,
        choice: int,
        weekday: int,
        start: int,
        end: int,
        minutes_before: int,
    ) -> Allocation:
        pc = self.classes[request.id]
        allocation = Allocation(  # by id: not in the session until the proposal is done
            request_id=request.id,
            resource_id=resource.id,
            weekday=weekday,
            start_minute=start,
            end_minute=end,
            choice=choice,
            hall_rank=hall_rank,
            turn_minutes=minutes_before,
        )
        self.granted[request.id].append(allocation)
        self.quota_used[(request.club_id, resource.root.id)] += end - start
        self.occupancy.add(
            Placed(
                request.id,
                frozenset(resource.unit_ids()),
                weekday,
                start,
                end,
                pc.rank,
                pc.name,
            )
        )
        return allocation


def clear(round_: AllocationRound) -> None:
    """Forget every allocation and note of an unpublished round."""
    request_ids = select(AllocationRequest.id).where(AllocationRequest.round_id == round_.id)
    db.session.execute(delete(AllocationNote).where(AllocationNote.request_id.in_(request_ids)))
    db.session.execute(delete(Allocation).where(Allocation.request_id.in_(request_ids)))
    db.session.expire_all()


def propose(round_: AllocationRound) -> list[Allocation]:
    """Replace the round's allocations by a complete, explained proposal (flushes).

    The office may then adjust it by hand on the grid before publishing.
    """
    round_id = round_.id
    clear(round_)
    round_ = db.session.get(AllocationRound, round_id)
    proposer = Proposer(round_)
    allocations = proposer.run()
    db.session.add_all(allocations)
    starts = {
        (r.id, choice): start for r in round_.requests for choice, _days, start in r.choices()
    }
    notes = [
        {
            "request_id": request_id,
            "choice": choice,
            "resource_id": resource_id,
            "weekday": weekday,
            "start_minute": starts[(request_id, choice)],
            "reason": blocked.reason.value,
            "detail": blocked.detail,
        }
        for request_id, failures in sorted(proposer.failures.items())
        for (choice, resource_id, weekday), blocked in sorted(failures.items())
    ]
    if notes:
        db.session.execute(insert(AllocationNote), notes)
    round_.proposed_at = utcnow()
    db.session.flush()
    return allocations
