"""Bills: gapless numbers, monthly statements, late cancellations, Storno, payments.

Services flush, never commit; the view commits once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from buchung.clock import local_moment, local_today, to_local
from buchung.fees.labels import money
from buchung.fees.models import Bill, BillCounter, BillItem, BillKind, BillStatus, ClubBilling
from buchung.fees.pricing import Pricer, Quote
from buchung.models import Booking, BookingKind, BookingStatus
from buchung.services.booking import cancellation_deadline
from lotse.extensions import db
from lotse.models import User


def next_number(year: int) -> int:
    """The next bill number of ``year``, taken under a lock held until the commit.

    The counter row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the
    ``UPDATE`` takes the database's write lock first), so concurrent bills queue behind
    each other and a rolled-back bill leaves no gap.
    """
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(BillCounter).values(year=year, last_number=0).on_conflict_do_nothing()
    )
    if dialect == "postgresql":
        last = db.session.scalar(
            select(BillCounter.last_number).where(BillCounter.year == year).with_for_update()
        )
        db.session.execute(
            update(BillCounter).where(BillCounter.year == year).values(last_number=last + 1)
        )
        return last + 1
    db.session.execute(
        update(BillCounter)
        .where(BillCounter.year == year)
        .values(last_number=BillCounter.last_number + 1)
    )
    return db.session.scalar(select(BillCounter.last_number).where(BillCounter.year == year))


def issue(bill: Bill, issued_on: date | None = None) -> Bill:
    """Give a prepared bill its date, due date and number, and store it."""
    bill.issued_on = issued_on or local_today()
    bill.due_on = bill.issued_on + timedelta(days=current_app.config["BUCHUNG_FEE_DUE_DAYS"])
    bill.year = bill.issued_on.year
    with db.session.no_autoflush:  # the bill is written once it has its number
        bill.sequence = next_number(bill.year)
    bill.number = f"{bill.year}-{bill.sequence:05d}"
    bill.total_cents = sum(item.amount_cents for item in bill.items)
    db.session.add(bill)
    db.session.flush()
    return bill


def cancellation_fee(booking: Booking, quote: Quote) -> Quote:
    """What a cancelled booking costs: nothing before the online cancellation deadline or
    when the office cancelled it (closure, decision); after it, the Satzung's share."""
    late = (
        booking.decided_by_id is None
        and booking.decided_at is not None
        and booking.decided_at >= cancellation_deadline(booking)
    )
    if not late or not quote.known or quote.total_cents == 0:
        return Quote([_("Storniert: keine Gebühr.")], 0)
    schedule = Pricer().schedule_on(to_local(booking.starts_at).date())
    percent = schedule.late_cancel_percent if schedule else 100
    amount = (quote.total_cents * percent + 50) // 100
    return Quote(
        [
            *quote.lines,
            _(
                "Späte Stornierung: %(percent)s %% von %(base)s = %(amount)s",
                percent=percent,
                base=money(quote.total_cents),
                amount=money(amount),
            ),
        ],
        amount,
    )


def billed_booking_ids() -> select:
    """Bookings already on a bill that stands (not cancelled by a Storno)."""
    return (
        select(BillItem.booking_id)
        .join(Bill)
        .where(Bill.kind != BillKind.STORNO, Bill.status != BillStatus.CANCELLED)
        .where(BillItem.booking_id.is_not(None))
    )


def billable(first: date, last: date, club_id: int | None = None) -> list[Booking]:
    """Bookings used (confirmed) or cancelled late in ``[first, last]`` and not billed yet."""
    query = (
        select(Booking)
        .where(
            Booking.kind == BookingKind.BOOKING,
            Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.CANCELLED]),
            Booking.starts_at >= local_moment(first, 0),
            Booking.starts_at < local_moment(last + timedelta(days=1), 0),
            Booking.id.not_in(billed_booking_ids()),
        )
        .order_by(Booking.starts_at)
    )
    if club_id is not None:
        query = query.where(Booking.club_id == club_id)
    return list(db.session.scalars(query))


def document_kind() -> str:
    """Gebührenbescheid (public-law fees) or Rechnung, as the town bills."""
    return current_app.config["BUCHUNG_FEE_DOCUMENT"]


@dataclass
class Payer:
    club_id: int | None
    name: str
    address: str
    email: str


def payer_of(booking: Booking) -> Payer:
    """Who pays for a booking: its club, else the guest who booked."""
    if booking.club is not None:
        billing = db.session.get(ClubBilling, booking.club_id)
        return Payer(booking.club_id, booking.club.name, billing.address if billing else "", "")
    return Payer(None, booking.contact_name, "", booking.contact_email)


def item_for(booking: Booking, quote: Quote, position: int) -> BillItem:
    """A bill line for a booking, with its calculation."""
    resource = booking.resource
    room = f"{resource.parent.name}: {resource.name}" if resource.parent else resource.name
    start, end = to_local(booking.starts_at), to_local(booking.ends_at)
    description = f"{start:%d.%m.%Y %H:%M}–{end:%H:%M} {room}, {booking.purpose}"
    if booking.status == BookingStatus.CANCELLED:
        description += " " + _("(storniert)")
    return BillItem(
        position=position,
        booking=booking,
        service_date=start.date(),
        description=description[:300],
        calculation="\n".join(quote.lines),
        amount_cents=quote.total_cents,
    )


def bill_bookings(
    bookings: list[Booking], first: date, last: date, user: User | None = None
) -> list[Bill]:
    """One bill per payer (a club's monthly statement, a guest's bill) for ``bookings``;
    bookings that cost nothing are left out, payers owing nothing get no bill."""
    pricer = Pricer()
    pricer.know(bookings)
    by_payer: dict[tuple, list[tuple[Booking, Quote]]] = defaultdict(list)
    for booking in bookings:
        quote = pricer.booking_quote(booking)
        if booking.status == BookingStatus.CANCELLED:
            quote = cancellation_fee(booking, quote)
        if quote.total_cents <= 0:
            continue
        payer = payer_of(booking)
        key = ("club", payer.club_id) if payer.club_id else ("guest", booking.id)
        by_payer[key].append((booking, quote))
    bills = []
    for rows in by_payer.values():
        payer = payer_of(rows[0][0])
        bill = Bill(
            kind=document_kind(),
            club_id=payer.club_id,
            payer_name=payer.name,
            payer_address=payer.address,
            payer_email=payer.email,
            period_start=first,
            period_end=last,
            created_by_id=user.id if user else None,
            items=[item_for(b, q, n) for n, (b, q) in enumerate(rows, start=1)],
        )
        bills.append(issue(bill))
    return bills


def month_range(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last


def bill_month(month: date, user: User | None = None) -> list[Bill]:
    """The monthly run: every unbilled booking of the month, one bill per payer."""
    first, last = month_range(month)
    return bill_bookings(billable(first, last), first, last, user)


def storno(bill: Bill, user: User | None = None, reason: str = "") -> tuple[Bill, Bill | None]:
    """Cancel a bill by a Storno document and bill its bookings anew at today's state.

    Both documents stay; the original is marked cancelled, never edited otherwise.
    Returns the Storno and the replacement (``None`` when nothing is owed any more).
    """
    if bill.kind == BillKind.STORNO or bill.status == BillStatus.CANCELLED:
        raise ValueError("bill cannot be cancelled")
    items = [
        BillItem(
            position=item.position,
            booking_id=item.booking_id,
            service_date=item.service_date,
            description=item.description,
            calculation=item.calculation,
            amount_cents=-item.amount_cents,
        )
        for item in bill.items
    ]
    cancel_doc = issue(
        Bill(
            kind=BillKind.STORNO,
            status=BillStatus.SETTLED,
            club_id=bill.club_id,
            payer_name=bill.payer_name,
            payer_address=bill.payer_address,
            payer_email=bill.payer_email,
            period_start=bill.period_start,
            period_end=bill.period_end,
            cancels_id=bill.id,
            payment_note=reason[:200],
            created_by_id=user.id if user else None,
            items=items,
        )
    )
    bill.status = BillStatus.CANCELLED
    db.session.flush()
    db.session.refresh(bill, ["cancelled_by"])
    bookings = [item.booking for item in bill.items if item.booking is not None]
    replacements = bill_bookings(bookings, bill.period_start, bill.period_end, user)
    replacement = replacements[0] if replacements else None
    for new in replacements:
        new.replaces = bill
    db.session.flush()
    return cancel_doc, replacement


def mark_paid(bill: Bill, paid_on: date, cents: int | None = None, note: str = "") -> None:
    """Record the payment of an open bill."""
    bill.status = BillStatus.PAID
    bill.paid_on = paid_on
    bill.paid_cents = bill.total_cents if cents is None else cents
    bill.payment_note = note[:200]


def overdue(today: date | None = None) -> list[Bill]:
    """Open bills past their due date, oldest first."""
    today = today or local_today()
    return list(
        db.session.scalars(
            select(Bill)
            .where(Bill.status == BillStatus.OPEN, Bill.due_on < today)
            .order_by(Bill.due_on, Bill.id)
        )
    )
