"""Applications, the office's grid and hand edits, and the council's figures.

Every function adds and flushes; the view commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from buchung.allocation.models import (
    Allocation,
    AllocationRequest,
    AllocationRound,
    ApplicantClass,
    NoteReason,
    PriorityClass,
    RequestHall,
    RoundState,
    Turns,
)
from buchung.allocation.proposal import (
    SeasonCalendar,
    describe_time,
    effective_classes,
    hours,
)
from buchung.allocation.publishing import RoundCheck, check
from buchung.club_models import Club
from buchung.models import Resource
from buchung.services.quotas import season_quotas
from lotse.extensions import db

REASON_TEXTS = {
    NoteReason.HIGHER_CLASS: _l("vergeben an eine höhere Prioritätsklasse (%(detail)s)"),
    NoteReason.SAME_CLASS: _l(
        "vergeben an einen gleichrangigen Antrag (%(detail)s); die Stunden wurden reihum "
        "gerecht verteilt"
    ),
    NoteReason.BOOKED: _l("in der Saison schon durch andere Buchungen belegt"),
    NoteReason.CLOSURE: _l("die Halle ist dann meist geschlossen (%(detail)s)"),
    NoteReason.QUOTA: _l(
        "Ihr Kontingent für diese Halle (%(detail)s Stunden pro Woche) ist erreicht"
    ),
    NoteReason.OUTSIDE_HOURS: _l("außerhalb der Öffnungszeiten oder des Zeitrasters der Halle"),
}


TURNS_TEXTS = {
    Turns.CLUB: _l("Gleichrangige Anträge kommen reihum je Verein an die Reihe."),
    Turns.TEAMS: _l(
        "Gleichrangige Anträge kommen reihum an die Reihe; jeder Verein erhält Stunden im "
        "Verhältnis zur Zahl seiner Mannschaften."
    ),
    Turns.MEMBERS: _l(
        "Gleichrangige Anträge kommen reihum an die Reihe; jeder Verein erhält Stunden im "
        "Verhältnis zu seiner Mitgliederzahl."
    ),
}


def turns_text(turns: str) -> str:
    """How a round shares hours among equal-priority applicants, in one sentence."""
    return str(TURNS_TEXTS[Turns(turns)])


def reason_text(reason: str, detail: str) -> str:
    """The German sentence an applicant reads for a wish that was not met."""
    return str(REASON_TEXTS[NoteReason(reason)]) % {"detail": detail}


def explain(allocation: Allocation, classes: list[PriorityClass] | None = None) -> str:
    """Why this session went to this application, in the order the proposal decided
    (``classes``: every priority class by rank, if read already)."""
    if allocation.choice == 0:
        return _("Vom Buchungsbüro von Hand zugeteilt.")
    request = allocation.request
    counted = effective_classes([request], classes)[request.id]
    if counted.id == request.priority_class_id:
        klass = _("Prioritätsklasse „%(name)s“", name=counted.name)
    else:
        klass = _(
            "Prioritätsklasse „%(name)s“ („%(claimed)s“ beantragt, noch nicht bestätigt)",
            name=counted.name,
            claimed=request.priority_class.name,
        )
    parts = [
        klass,
        _("Erstwunsch") if allocation.choice == 1 else _("Zweitwunsch"),
        _("Wunschhalle %(rank)s", rank=allocation.hall_rank),
        _(
            "unter den gleichrangigen Antragstellern an der Reihe mit bisher %(hours)s Stunden",
            hours=hours(allocation.turn_minutes or 0),
        ),
    ]
    if request.notes:
        parts.append(_("bessere Wünsche waren nicht frei (siehe Gründe)"))
    return "; ".join(parts) + "."


class AllocationRefused(Exception):
    """A hand-made allocation breaks a rule; the message says which, in German."""


def priority_classes() -> list[PriorityClass]:
    return list(db.session.scalars(select(PriorityClass).order_by(PriorityClass.rank)))


def fixed_class(club: Club) -> PriorityClass | None:
    """The class the office assigned to an applicant (schools, Kitas), if any."""
    row = db.session.get(ApplicantClass, club.id)
    return row.priority_class if row else None


def selectable_classes(club: Club) -> list[PriorityClass]:
    """The classes an applicant may choose: its fixed one, else every class open to clubs."""
    fixed = fixed_class(club)
    if fixed is not None:
        return [fixed]
    return [c for c in priority_classes() if c.open_to_clubs]


def confirm_class(request: AllocationRequest, priority_class: PriorityClass) -> None:
    """The office sets (or confirms) an application's class; the proposal counts it so."""
    request.priority_class_id = priority_class.id
    request.class_confirmed = True
    db.session.flush()


def set_applicant_class(club: Club, priority_class: PriorityClass) -> None:
    """Fix an applicant's class; its applications in open rounds take it too."""
    row = db.session.get(ApplicantClass, club.id)
    if row is None:
        row = ApplicantClass(club_id=club.id)
        db.session.add(row)
    row.priority_class_id = priority_class.id
    for request in db.session.scalars(
        select(AllocationRequest).where(AllocationRequest.club_id == club.id)
    ):
        if request.round.state == RoundState.OPEN:
            request.priority_class_id = priority_class.id
            request.class_confirmed = True
    db.session.flush()


def hall_choices(round_: AllocationRound) -> list[Resource]:
    """Halls of the round and their parts, as applicants may name them."""
    found = []
    for hall in round_.resources:
        found.append(hall)
        found.extend(hall.parts)
    return found


def resource_label(resource: Resource) -> str:
    return f"{resource.parent.name}: {resource.name}" if resource.parent else resource.name


def create_request(
    round_: AllocationRound,
    club: Club,
    *,
    team: str,
    priority_class: PriorityClass,
    sessions_per_week: int,
    duration_minutes: int,
    first: tuple[list[int], int],
    second: tuple[list[int], int] | None,
    hall_ids: list[int],
    remark: str = "",
    evidence: str = "",
) -> AllocationRequest:
    """Store one team's application (it holds no slot); a claimed class that needs
    evidence waits for the office's confirmation."""
    request = AllocationRequest(
        round=round_,
        club=club,
        team=team,
        priority_class=priority_class,
        sessions_per_week=sessions_per_week,
        duration_minutes=duration_minutes,
        first_weekdays=",".join(str(d) for d in sorted(first[0])),
        first_start_minute=first[1],
        second_weekdays=",".join(str(d) for d in sorted(second[0])) if second else "",
        second_start_minute=second[1] if second else None,
        remark=remark,
        evidence=evidence,
        halls=[RequestHall(rank=n, resource_id=rid) for n, rid in enumerate(hall_ids, start=1)],
    )
    db.session.add(request)
    db.session.flush()
    return request


def quota_excess(request: AllocationRequest, resource: Resource, minutes: int) -> str | None:
    """Why ``minutes`` more a week for the applicant in ``resource``'s hall would exceed its
    quota, counting its other allocations in the round there (as the proposal does)."""
    hall = resource.root
    quota = season_quotas([request.club_id], request.round.season).get((request.club_id, hall.id))
    if quota is None:
        return None
    used = sum(
        a.minutes
        for a in db.session.scalars(
            select(Allocation)
            .join(AllocationRequest)
            .where(
                AllocationRequest.round_id == request.round_id,
                AllocationRequest.club_id == request.club_id,
            )
        )
        if a.resource.root.id == hall.id
    )
    if used + minutes <= quota:
        return None
    return _(
        "Über dem Kontingent: %(club)s darf %(hall)s höchstens %(quota)s Stunden pro Woche "
        "belegen; mit dieser Einheit wären es %(total)s Stunden. Die Einheit ist nicht "
        "zugeteilt: erhöhen Sie das Kontingent für diese Saison oder nehmen Sie eine andere "
        "Einheit des Antragstellers zurück.",
        club=request.club.name,
        hall=hall.name,
        quota=hours(quota),
        total=hours(used + minutes),
    )


def add_allocation(
    request: AllocationRequest, resource: Resource, weekday: int, start: int
) -> Allocation:
    """The office grants a session by hand, under the proposal's checks: refused when it
    lies outside the hall's hours, is closed or booked for most of the season, exceeds the
    applicant's quota for the hall, or overlaps another allocation."""
    end = start + request.duration_minutes
    if end > 1440:
        raise AllocationRefused(_("Die Einheit muss vor Mitternacht enden."))
    if weekday in {a.weekday for a in request.allocations}:
        raise AllocationRefused(_("Dieser Antrag hat an dem Wochentag schon eine Einheit."))
    season = request.round.season
    blocked = SeasonCalendar(season.first_day, season.last_day).blocked(
        resource, weekday, start, end
    )
    if blocked is not None:
        raise AllocationRefused(reason_text(blocked.reason, blocked.detail))
    over = quota_excess(request, resource, end - start)
    if over is not None:
        raise AllocationRefused(over)
    units = set(resource.unit_ids())
    for other in round_allocations_on(request.round, weekday):
        if units & set(other.resource.unit_ids()) and (
            start < other.end_minute and other.start_minute < end
        ):
            raise AllocationRefused(
                _(
                    "Die Zeit überschneidet sich mit %(team)s (%(club)s), %(time)s.",
                    team=other.request.team,
                    club=other.request.club.name,
                    time=describe_time(other.weekday, other.start_minute, other.end_minute),
                )
            )
    allocation = Allocation(
        request=request,
        resource=resource,
        weekday=weekday,
        start_minute=start,
        end_minute=end,
        choice=0,
    )
    db.session.add(allocation)
    db.session.flush()
    return allocation


def round_allocations_on(round_: AllocationRound, weekday: int) -> list[Allocation]:
    return list(
        db.session.scalars(
            select(Allocation)
            .join(AllocationRequest)
            .where(AllocationRequest.round_id == round_.id, Allocation.weekday == weekday)
        )
    )


@dataclass
class GridEntry:
    request: AllocationRequest
    resource: Resource
    allocated: bool
    choice: int
    weekday: int
    start: int
    end: int


@dataclass
class GridCell:
    entries: list[GridEntry] = field(default_factory=list)

    @property
    def conflict(self) -> bool:
        """More wishes or sessions here than the hall's units can hold side by side."""
        return len({e.request.id for e in self.entries}) > 1 and _overlapping(self.entries)


def _overlapping(entries: list[GridEntry]) -> bool:
    for i, a in enumerate(entries):
        for b in entries[i + 1 :]:
            if a.request.id != b.request.id and set(a.resource.unit_ids()) & set(
                b.resource.unit_ids()
            ):
                return True
    return False


@dataclass
class HallGrid:
    hall: Resource
    minutes: list[int]
    cells: dict[tuple[int, int], GridCell]  # (weekday, minute) → cell


def hall_grid(round_: AllocationRound, hall: Resource) -> HallGrid:
    """The week of one hall: every wish and session that covers each row, highest class first."""
    step = hall.slot_minutes
    hours_rows = hall.opening_hours
    first = min((h.opens_minute for h in hours_rows), default=8 * 60) // step * step
    last = max((h.closes_minute for h in hours_rows), default=22 * 60)
    minutes = list(range(first, last, step))
    ids = {hall.id, *(p.id for p in hall.parts)}
    entries: list[GridEntry] = []
    for request in round_.requests:
        granted = {(a.resource_id, a.weekday, a.start_minute) for a in request.allocations}
        for allocation in request.allocations:
            if allocation.resource_id in ids:
                entries.append(
                    GridEntry(
                        request,
                        allocation.resource,
                        True,
                        allocation.choice,
                        allocation.weekday,
                        allocation.start_minute,
                        allocation.end_minute,
                    )
                )
        for wished in request.halls:
            if wished.resource_id not in ids:
                continue
            for choice, weekdays, start in request.choices():
                end = start + request.duration_minutes
                entries.extend(
                    GridEntry(request, wished.resource, False, choice, weekday, start, end)
                    for weekday in weekdays
                    if (wished.resource_id, weekday, start) not in granted
                )
    cells: dict[tuple[int, int], GridCell] = defaultdict(GridCell)
    for entry in sorted(
        entries,
        key=lambda e: (not e.allocated, e.request.priority_class.rank, e.choice, e.request.id),
    ):
        for minute in minutes:
            if entry.start < minute + step and minute < entry.end:
                cells[(entry.weekday, minute)].entries.append(entry)
    return HallGrid(hall, minutes, cells)


@dataclass
class Figure:
    label: str
    requested: int = 0  # minutes a week
    allocated: int = 0
    booked_dates: int = 0  # over the season: booked (or, before publishing, to be booked)
    lost_dates: int = 0
    booked_minutes: int = 0

    @property
    def share(self) -> str:
        if not self.requested:
            return "–"
        return f"{100 * self.allocated / self.requested:.0f} %"

    @property
    def requested_hours(self) -> str:
        return hours(self.requested)

    @property
    def allocated_hours(self) -> str:
        return hours(self.allocated)

    @property
    def booked_hours(self) -> str:
        return hours(self.booked_minutes)


def figures(round_: AllocationRound, by: str, result: RoundCheck | None = None) -> list[Figure]:
    """Hours a week requested and allocated, per hall (a request counts for its first hall)
    or per applicant, with the dates and hours of the season actually booked and the dates
    lost (from ``result``, the round's check: what publishing books or booked)."""
    units = (result or check(round_)).by_allocation()
    rows: dict[object, Figure] = {}
    if by == "hall":
        for hall in round_.resources:
            rows[hall.id] = Figure(hall.name)
    for request in round_.requests:
        if by == "hall":
            key = request.halls[0].resource.root.id
            rows.setdefault(key, Figure(request.halls[0].resource.root.name))
        else:
            key = request.club_id
            rows.setdefault(key, Figure(request.club.name))
        rows[key].requested += request.requested_minutes
        for allocation in request.allocations:
            target = allocation.resource.root.id if by == "hall" else request.club_id
            row = rows.setdefault(target, Figure(allocation.resource.root.name))
            row.allocated += allocation.minutes
            unit = units.get(allocation.id)
            if unit is not None:
                row.booked_dates += unit.booked
                row.lost_dates += len(unit.gaps)
                row.booked_minutes += unit.booked_minutes
    return sorted(rows.values(), key=lambda f: f.label)
