"""What a booking costs under the Gebührensatzung in force on its day, with the calculation.

Amounts are integer cents throughout; a share of an amount is rounded half away from zero
to whole cents.  The calculation is kept as text lines ("2 Std. × 17,50 € (Verein) =
35,00 €") so the form, the mail, the booking page and the bill say the same.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from buchung.clock import to_local
from buchung.fees.labels import hours, money
from buchung.fees.models import (
    AdjustmentCondition,
    BookingFeeOption,
    ClubBilling,
    FeeGroup,
    FeeSchedule,
    FeeUnit,
    Tariff,
)
from buchung.forms import GROUP_LABELS
from buchung.models import Booking, BookingStatus, Resource
from lotse.extensions import db


def share(cents: int, percent: int) -> int:
    """``percent`` % of ``cents``, rounded half away from zero to whole cents."""
    product = cents * percent
    rounded = (abs(product) + 50) // 100
    return rounded if product >= 0 else -rounded


@dataclass(frozen=True)
class Claims:
    """What decides surcharges and reductions besides the day: declared by the booker
    (youth team, extra cleaning) or known of the club (non-profit)."""

    youth: bool = False
    cleaning: bool = False
    non_profit: bool = False


@dataclass
class Quote:
    """The fee of one booking: its calculation lines and the total, in cents."""

    lines: list[str] = field(default_factory=list)
    total_cents: int = 0
    known: bool = True  # False: no Satzung or no tariff for this resource and group

    @property
    def text(self) -> str:
        return "; ".join(self.lines)


@dataclass
class SeasonTotal:
    """A series' fee: identical calculations grouped ("12 × …"), and the season total."""

    rows: list[tuple[int, Quote]]
    total_cents: int
    unknown: int  # dates without a tariff

    @property
    def count(self) -> int:
        return sum(n for n, _quote in self.rows)


def group_name(key: str, town_groups: dict[str, str] | None = None) -> str:
    """The German name of a customer group (Verein, Privat, Gewerblich, or a town's own,
    looked up in ``town_groups`` when given)."""
    if key in GROUP_LABELS:
        return str(GROUP_LABELS[key])
    if town_groups is not None:
        return town_groups.get(key, key)
    group = db.session.scalar(select(FeeGroup).where(FeeGroup.key == key))
    return group.name if group is not None else key


# Bookings whose options one query reads (well below every database's parameter limit).
TERMS_CHUNK = 500


class Pricer:
    """Prices bookings; reads the Satzungen with their tariffs once, for a page or a run,
    and the fee options and club billings of the bookings it is told about at once."""

    def __init__(self) -> None:
        self.schedules = list(
            db.session.scalars(
                select(FeeSchedule)
                .options(selectinload(FeeSchedule.tariffs), selectinload(FeeSchedule.adjustments))
                .order_by(FeeSchedule.valid_from.desc())
            )
        )
        groups = list(db.session.scalars(select(FeeGroup)))
        self.group_names = {g.key: g.name for g in groups}
        self.free_groups = {g.key for g in groups if g.free}
        self.options: dict[int, BookingFeeOption | None] = {}
        self.billings: dict[int, ClubBilling | None] = {}

    def know(self, bookings: list[Booking]) -> None:
        """Read what prices ``bookings`` (declared options, their clubs' billing) in a few
        queries, so that a page or a billing run does not ask once per booking."""
        ids = [b.id for b in bookings if b.id and b.id not in self.options]
        for n in range(0, len(ids), TERMS_CHUNK):
            chunk = ids[n : n + TERMS_CHUNK]
            found = db.session.scalars(
                select(BookingFeeOption).where(BookingFeeOption.booking_id.in_(chunk))
            )
            self.options.update(dict.fromkeys(chunk))
            self.options.update((o.booking_id, o) for o in found)
        clubs = list({b.club_id for b in bookings if b.club_id and b.club_id not in self.billings})
        if clubs:
            found = db.session.scalars(select(ClubBilling).where(ClubBilling.club_id.in_(clubs)))
            self.billings.update(dict.fromkeys(clubs))
            self.billings.update((b.club_id, b) for b in found)

    def terms(self, booking: Booking) -> tuple[str, Claims]:
        """The customer group and the claims that price a stored booking."""
        self.know([booking])
        option = self.options.get(booking.id) if booking.id else None
        billing = self.billings.get(booking.club_id) if booking.club_id else None
        if booking.club_id:
            group_key = billing.group_key if billing else "club"
        else:
            group_key = booking.customer_group or "private"
        return group_key, Claims(
            youth=bool(option and option.youth),
            cleaning=bool(option and option.cleaning),
            non_profit=bool(billing and billing.non_profit),
        )

    def schedule_on(self, day: date) -> FeeSchedule | None:
        """The Satzung in force on ``day``."""
        return next((s for s in self.schedules if s.valid_from <= day), None)

    def tariff(self, schedule: FeeSchedule, resource: Resource, group_key: str) -> Tariff | None:
        """The resource's own tariff for the group, else its hall's."""
        for candidate in (resource, resource.parent):
            if candidate is None:
                continue
            for tariff in schedule.tariffs:
                if tariff.resource_id == candidate.id and tariff.group_key == group_key:
                    return tariff
        return None

    def quote(
        self,
        resource: Resource,
        starts_at: datetime,
        ends_at: datetime,
        group_key: str,
        claims: Claims = Claims(),  # noqa: B008 - frozen, shared safely
    ) -> Quote:
        """The fee of using ``resource`` for ``[starts_at, ends_at)`` as ``group_key``."""
        group = group_name(group_key, self.group_names)
        if group_key in self.free_groups:
            return Quote([_("gebührenfrei (%(group)s)", group=group)], 0)
        local_start = to_local(starts_at)
        schedule = self.schedule_on(local_start.date())
        tariff = self.tariff(schedule, resource, group_key) if schedule else None
        if tariff is None:
            return Quote([_("Für diese Buchung ist keine Gebühr festgelegt.")], 0, known=False)
        if tariff.unit == FeeUnit.HOUR:
            minutes = (ends_at - starts_at) // timedelta(minutes=1)
            base = (tariff.amount_cents * minutes + 30) // 60
            first = _(
                "%(hours)s Std. × %(rate)s (%(group)s) = %(amount)s",
                hours=hours(minutes),
                rate=money(tariff.amount_cents),
                group=group,
                amount=money(base),
            )
        else:
            base = tariff.amount_cents
            first = _(
                "1 Nutzung × %(rate)s (%(group)s) = %(amount)s",
                rate=money(tariff.amount_cents),
                group=group,
                amount=money(base),
            )
        lines, total = [first], base
        holds = {
            AdjustmentCondition.WEEKEND: local_start.weekday() >= 5,
            AdjustmentCondition.CLEANING: claims.cleaning,
            AdjustmentCondition.YOUTH: claims.youth,
            AdjustmentCondition.NON_PROFIT: claims.non_profit,
        }
        for adjustment in schedule.adjustments:
            if not holds[adjustment.condition]:
                continue
            if adjustment.percent:
                amount = share(base, adjustment.percent)
                lines.append(
                    _(
                        "%(name)s %(percent)s %% von %(base)s = %(amount)s",
                        name=adjustment.name,
                        percent=f"{adjustment.percent:+d}",
                        base=money(base),
                        amount=money(amount),
                    )
                )
            else:
                amount = adjustment.amount_cents
                lines.append(f"{adjustment.name} = {money(amount)}")
            total += amount
        total = max(total, 0)
        if len(lines) > 1:
            lines.append(_("Summe: %(amount)s", amount=money(total)))
        return Quote(lines, total)

    def booking_quote(self, booking: Booking) -> Quote:
        """The fee of a stored booking, as its booker declared it."""
        group_key, claims = self.terms(booking)
        return self.quote(booking.resource, booking.starts_at, booking.ends_at, group_key, claims)

    def season_total(self, quotes: list[Quote]) -> SeasonTotal:
        """Sum the fees of a series' dates, identical calculations counted together."""
        counted = Counter(tuple(q.lines) for q in quotes if q.known)
        first = {tuple(q.lines): q for q in quotes}
        rows = [(n, first[lines]) for lines, n in counted.items()]
        total = sum(n * q.total_cents for n, q in rows)
        return SeasonTotal(rows, total, sum(1 for q in quotes if not q.known))


def billing_of(club_id: int | None) -> ClubBilling | None:
    return db.session.get(ClubBilling, club_id) if club_id else None


def club_claims(club_id: int, youth: bool = False, cleaning: bool = False) -> tuple[str, Claims]:
    """The group and claims of a club booking not stored yet (the series preview)."""
    billing = billing_of(club_id)
    return (billing.group_key if billing else "club"), Claims(
        youth, cleaning, bool(billing and billing.non_profit)
    )


def record_options(bookings: list[Booking], youth: bool, cleaning: bool) -> None:
    """Keep what the booker declared for the fee with each booking."""
    for booking in bookings:
        if youth or cleaning:
            db.session.merge(
                BookingFeeOption(booking_id=booking.id, youth=youth, cleaning=cleaning)
            )


def booking_price(booking: Booking) -> Quote | None:
    """The fee shown with a booking (page, mail): none for a blocking or a booking that
    was declined or expired; a cancelled one shows what its cancellation costs."""
    if booking.kind != "booking" or booking.status in (
        BookingStatus.DECLINED,
        BookingStatus.EXPIRED,
    ):
        return None
    quote = Pricer().booking_quote(booking)
    if booking.status == BookingStatus.CANCELLED:
        from buchung.fees.billing import cancellation_fee

        return cancellation_fee(booking, quote)
    return quote


def season_price(
    bookings_or_planned,
    resource: Resource | int | None = None,
    club_id: int | None = None,
    youth: bool = False,
    cleaning: bool = False,
) -> SeasonTotal:
    """The season total of a series: of its stored occurrences (cancelled ones left out),
    or of the free dates of a preview for ``resource`` and the club."""
    if isinstance(resource, int):
        resource = db.session.get(Resource, resource)
    items = list(bookings_or_planned)
    pricer = Pricer()
    pricer.know([item for item in items if isinstance(item, Booking)])
    previewed = club_claims(club_id, youth, cleaning) if club_id is not None else None
    quotes = []
    for item in items:
        if isinstance(item, Booking):
            if item.is_active:
                quotes.append(pricer.booking_quote(item))
        elif item.state == "free" and resource is not None and previewed is not None:
            quotes.append(pricer.quote(resource, item.starts_at, item.ends_at, *previewed))
    return pricer.season_total(quotes)


def current_tariffs(resource: Resource) -> list[tuple[str, Tariff]]:
    """The resource's tariffs in force today (its own, else its hall's), with the group
    names, for its page: one query."""
    return tariffs_in_force([resource])[resource.id]


def tariffs_in_force(resources: list[Resource]) -> dict[int, list[tuple[str, Tariff]]]:
    """``current_tariffs`` of each resource by id, for a list of them in one query (and
    one more for the names when a town's own groups have tariffs)."""
    from buchung.clock import local_today

    in_force = (
        select(FeeSchedule.id)
        .where(FeeSchedule.valid_from <= local_today())
        .order_by(FeeSchedule.valid_from.desc())
        .limit(1)
        .scalar_subquery()
    )
    candidates = {r.id for r in resources} | {r.parent_id for r in resources if r.parent_id}
    rows = db.session.scalars(
        select(Tariff).where(Tariff.schedule_id == in_force, Tariff.resource_id.in_(candidates))
    ).all()
    by_resource: dict[int, dict[str, Tariff]] = {}
    for tariff in rows:
        by_resource.setdefault(tariff.resource_id, {})[tariff.group_key] = tariff
    town_groups = None
    if any(t.group_key not in GROUP_LABELS for t in rows):
        town_groups = {
            key: name for key, name in db.session.execute(select(FeeGroup.key, FeeGroup.name))
        }
    found = {}
    for resource in resources:
        hall = by_resource.get(resource.parent_id, {}) if resource.parent_id else {}
        chosen = {**hall, **by_resource.get(resource.id, {})}
        found[resource.id] = [
            (group_name(key, town_groups), chosen[key]) for key in sorted(chosen, key=_group_order)
        ]
    return found


def _group_order(key: str) -> tuple[int, str]:
    order = list(GROUP_LABELS)
    return (order.index(key), key) if key in order else (len(order), key)
