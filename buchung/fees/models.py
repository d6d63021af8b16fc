"""Fees as a Gebührensatzung writes them, the bills (Gebührenbescheide) and SEPA mandates.

A ``FeeSchedule`` is one Satzung, valid from a date until the next one: its ``Tariff`` rows
give the fee per resource and customer group (per hour or per use, in cents), its
``FeeAdjustment`` rows the surcharges and reductions.  A booking is priced by the Satzung in
force on the day of use, so a new Satzung never changes a booking before its date.

A ``Bill`` is a document: once issued it is never edited.  A correction issues a Storno
(a bill of kind ``storno`` with the negated items, ``cancels_id`` pointing to the original)
and a replacement (``replaces_id``).  Numbers run per year without gaps: ``BillCounter``
holds the last number of each year and is bumped under a row lock in the transaction that
writes the bill, so a rolled-back bill gives its number back.
"""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from buchung.club_models import Club
from buchung.models import Booking, Resource, _values
from lotse.extensions import db
from lotse.models import TimestampMixin, UTCDateTime


class FeeUnit(enum.StrEnum):
    HOUR = "hour"
    USE = "use"


class AdjustmentCondition(enum.StrEnum):
    """When a surcharge or reduction of a Satzung applies."""

    WEEKEND = "weekend"  # the booking starts on a Saturday or Sunday
    CLEANING = "cleaning"  # the booker asked for an extra cleaning
    YOUTH = "youth"  # a youth team (the booker ticks it)
    NON_PROFIT = "non_profit"  # the club is recognised as non-profit (set by the office)


class BillKind(enum.StrEnum):
    BESCHEID = "bescheid"  # Gebührenbescheid: public-law fee, with Rechtsbehelfsbelehrung
    RECHNUNG = "rechnung"  # private-law invoice
    STORNO = "storno"  # cancels another bill


class BillStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"  # a Storno document cancels it
    SETTLED = "settled"  # a Storno document itself: nothing to pay


class FeeGroup(db.Model):
    """A customer group of the Satzung: Verein, Privat, Gewerblich, or one the town adds
    (Jugendarbeit, Schulsport).  A ``free`` group pays nothing anywhere."""

    __tablename__ = "fee_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    free: Mapped[bool] = mapped_column(Boolean, default=False)


class FeeSchedule(TimestampMixin, db.Model):
    """A Gebührensatzung, in force from ``valid_from`` until the next one starts."""

    __tablename__ = "fee_schedule"
    __table_args__ = (
        CheckConstraint("late_cancel_percent BETWEEN 0 AND 100", name="late_cancel_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date, unique=True)
    # Share of the fee owed for a cancellation after the online cancellation deadline.
    late_cancel_percent: Mapped[int] = mapped_column(Integer, default=100)

    tariffs: Mapped[list[Tariff]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", order_by="Tariff.id"
    )
    adjustments: Mapped[list[FeeAdjustment]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", order_by="FeeAdjustment.id"
    )


class Tariff(db.Model):
    """The fee of a resource for a customer group under a Satzung; a hall's parts use the
    hall's tariff unless they have their own."""

    __tablename__ = "fee_tariff"
    __table_args__ = (
        UniqueConstraint("schedule_id", "resource_id", "group_key"),
        CheckConstraint(f"unit IN ({_values(FeeUnit)})", name="known_unit"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("fee_schedule.id", ondelete="CASCADE"), index=True
    )
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resource.id", ondelete="CASCADE"), index=True
    )
    group_key: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(8), default=FeeUnit.HOUR)
    amount_cents: Mapped[int] = mapped_column(Integer)

    schedule: Mapped[FeeSchedule] = relationship(back_populates="tariffs")
    resource: Mapped[Resource] = relationship()


class FeeAdjustment(db.Model):
    """A surcharge (positive) or reduction (negative) of a Satzung: a percentage of the
    base fee or a fixed amount, applied when its condition holds."""

    __tablename__ = "fee_adjustment"
    __table_args__ = (
        CheckConstraint(f"condition IN ({_values(AdjustmentCondition)})", name="known_condition"),
        CheckConstraint("percent BETWEEN -100 AND 500", name="percent_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("fee_schedule.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    condition: Mapped[str] = mapped_column(String(12))
    percent: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(Integer, default=0)

    schedule: Mapped[FeeSchedule] = relationship(back_populates="adjustments")


class BookingFeeOption(db.Model):
    """What the booker declared for the fee: a youth team, an extra cleaning."""

    __tablename__ = "booking_fee_option"

    booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), primary_key=True
    )
    youth: Mapped[bool] = mapped_column(Boolean, default=False)
    cleaning: Mapped[bool] = mapped_column(Boolean, default=False)


class ClubBilling(TimestampMixin, db.Model):
    """A club's fee group, its non-profit status and its SEPA direct-debit mandate."""

    __tablename__ = "club_billing"

    club_id: Mapped[int] = mapped_column(
        ForeignKey("club.id", ondelete="CASCADE"), primary_key=True
    )
    group_key: Mapped[str] = mapped_column(String(20), default="club")
    non_profit: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str] = mapped_column(String(300), default="")
    account_holder: Mapped[str] = mapped_column(String(70), default="")
    iban: Mapped[str] = mapped_column(String(34), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    mandate_reference: Mapped[str] = mapped_column(String(35), default="")
    mandate_signed_on: Mapped[date | None] = mapped_column(Date)
    # The first collection under a mandate is FRST, later ones RCUR (SEPA rulebook).
    first_collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    club: Mapped[Club] = relationship(lazy="joined")

    @property
    def has_mandate(self) -> bool:
        return bool(self.iban and self.mandate_reference and self.mandate_signed_on)


class BillCounter(db.Model):
    """The last bill number of a year; locked while a bill is written, so none is skipped."""

    __tablename__ = "bill_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


def new_bill_token() -> str:
    return secrets.token_urlsafe(24)


class Bill(TimestampMixin, db.Model):
    """A Gebührenbescheid, Rechnung or Storno: issued once, never edited."""

    __tablename__ = "bill"
    __table_args__ = (
        UniqueConstraint("year", "sequence"),
        CheckConstraint(f"kind IN ({_values(BillKind)})", name="known_kind"),
        CheckConstraint(f"status IN ({_values(BillStatus)})", name="known_status"),
        Index("ix_bill_status_due", "status", "due_on"),
        Index("ix_bill_club_period", "club_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=BillStatus.OPEN)
    token: Mapped[str] = mapped_column(String(40), unique=True, default=new_bill_token)
    club_id: Mapped[int | None] = mapped_column(ForeignKey("club.id", ondelete="SET NULL"))
    payer_name: Mapped[str] = mapped_column(String(200))
    payer_address: Mapped[str] = mapped_column(String(300), default="")
    payer_email: Mapped[str] = mapped_column(String(254), default="")
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    total_cents: Mapped[int] = mapped_column(Integer)
    cancels_id: Mapped[int | None] = mapped_column(ForeignKey("bill.id"), unique=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("bill.id"))
    paid_on: Mapped[date | None] = mapped_column(Date)
    paid_cents: Mapped[int | None] = mapped_column(Integer)
    payment_note: Mapped[str] = mapped_column(String(200), default="")
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    reminded_on: Mapped[date | None] = mapped_column(Date)
    sepa_message_id: Mapped[str] = mapped_column(String(35), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )

    club: Mapped[Club | None] = relationship(lazy="joined")
    items: Mapped[list[BillItem]] = relationship(
        back_populates="bill", cascade="all, delete-orphan", order_by="BillItem.position"
    )
    cancels: Mapped[Bill | None] = relationship(
        foreign_keys=[cancels_id], remote_side=[id], back_populates="cancelled_by"
    )
    cancelled_by: Mapped[Bill | None] = relationship(
        foreign_keys=[cancels_id], back_populates="cancels", uselist=False
    )
    replaces: Mapped[Bill | None] = relationship(foreign_keys=[replaces_id], remote_side=[id])

    @property
    def title(self) -> str:
        from buchung.fees.labels import BILL_KIND_LABELS

        return f"{BILL_KIND_LABELS[self.kind]} {self.number}"

    def __repr__(self) -> str:
        return f"<Bill {self.number} {self.total_cents}>"


class BillItem(db.Model):
    """One line of a bill: a booking's fee (or late cancellation) with its calculation."""

    __tablename__ = "bill_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="SET NULL"), index=True
    )
    service_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(300))
    calculation: Mapped[str] = mapped_column(Text, default="")
    amount_cents: Mapped[int] = mapped_column(Integer)

    bill: Mapped[Bill] = relationship(back_populates="items")
    booking: Mapped[Booking | None] = relationship()
