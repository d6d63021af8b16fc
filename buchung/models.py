"""Booking models: resources, opening hours, closures, bookings and the slot table.

How double bookings are ruled out (libres/OneGov design)
--------------------------------------------------------
Time is cut into a fixed grid of ``SLOT_MINUTES`` (15 minutes, aligned to UTC, which is
aligned to German local time as well because the offsets are whole hours).  Every
booking that holds time (a guest's hold, a request awaiting approval, a confirmed booking
or a staff blocking) owns one ``BookingSlot`` row per grid slot and per *unit*, the
smallest bookable part of a resource: a resource without parts is its own unit, a hall
with parts ("Drittel A/B/C") has its parts as units.  ``BookingSlot`` has the primary key
``(unit_id, slot_start)``, so

* a booking of the whole hall writes rows for every part and clashes with any booking of
  one of its parts, and vice versa; two different parts never clash;
* two transactions racing for the same slot cannot both commit: the second insert fails
  on the unique key, on SQLite and on PostgreSQL alike, without SERIALIZABLE isolation;
* time ranges are half-open, ``[start, end)``: 10–11 owns the slots 10:00 … 10:45 and
  11–12 starts at 11:00, so touching bookings never conflict.

The slot rows are written in the same transaction as the booking and deleted when it is
declined, cancelled or its hold expires.  The booking grid of a resource (e.g. 30 or 60
minutes) is only a rule for where bookings may start and end; it must be a multiple of
``SLOT_MINUTES``, so changing it later never lets old and new bookings slip past each other.

On PostgreSQL a deferred constraint trigger (``booking_owns_slots``, see the migration
``0002_buchung``) checks at commit that every active booking owns exactly its slot rows,
so even a raw SQL ``INSERT INTO booking`` that overlaps another booking fails: without
slot rows the trigger refuses it, with slot rows the unique key does.

Issue 8 (club accounts, ``BookingSeries`` → ``Occurrence``) extends ``Booking``: an
occurrence is a booking row with a nullable ``series_id``, the booker a nullable
``club_id`` beside the contact fields; both claim slots through the same service.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from sqlalchemy import (
    DDL,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotse.extensions import db
from lotse.models import Department, TimestampMixin, User, UTCDateTime

SLOT_MINUTES = 15
SLOT = timedelta(minutes=SLOT_MINUTES)


def _values(members) -> str:
    """SQL list of enum values, for CHECK constraints and the trigger."""
    return ", ".join(f"'{member.value}'" for member in members)


class ResourceKind(enum.StrEnum):
    HALL = "hall"
    GYM = "gym"
    MEETING_ROOM = "meeting_room"


class Access(enum.StrEnum):
    """Who may book a resource."""

    PUBLIC = "public"
    CLUBS = "clubs"
    STAFF = "staff"


class BookingStatus(enum.StrEnum):
    HELD = "held"  # a guest's booking until the e-mail link is confirmed
    REQUESTED = "requested"  # angefragt: waits for the booking office
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # a hold whose e-mail link was not confirmed in time


ACTIVE_STATUSES = (BookingStatus.HELD, BookingStatus.REQUESTED, BookingStatus.CONFIRMED)


class BookingKind(enum.StrEnum):
    BOOKING = "booking"
    BLOCKING = "blocking"  # staff block time (maintenance, events); no customer


class CustomerGroup(enum.StrEnum):
    CLUB = "club"
    PRIVATE = "private"
    COMMERCIAL = "commercial"


class Resource(TimestampMixin, db.Model):
    """A bookable hall, gym or room; a divisible hall has its parts as children.

    Parts follow their hall's scheduling rules (opening hours, grid, durations, horizon,
    access, approval, department, closures); they have their own name, capacity and
    description.
    """

    __tablename__ = "resource"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(ResourceKind)})", name="known_kind"),
        CheckConstraint(f"access IN ({_values(Access)})", name="known_access"),
        CheckConstraint(
            f"slot_minutes > 0 AND slot_minutes % {SLOT_MINUTES} = 0", name="slot_on_grid"
        ),
        CheckConstraint("min_minutes > 0 AND max_minutes >= min_minutes", name="durations_ordered"),
        CheckConstraint("horizon_days > 0", name="horizon_positive"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default=ResourceKind.HALL)
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    equipment: Mapped[str] = mapped_column(Text, default="")  # one item per comma
    accessibility: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    min_minutes: Mapped[int] = mapped_column(Integer, default=60)
    max_minutes: Mapped[int] = mapped_column(Integer, default=240)
    horizon_days: Mapped[int] = mapped_column(Integer, default=180)
    access: Mapped[str] = mapped_column(String(10), default=Access.PUBLIC)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Resource | None] = relationship(
        remote_side=[id], back_populates="parts", lazy="joined"
    )
    parts: Mapped[list[Resource]] = relationship(
        back_populates="parent", order_by="Resource.name", lazy="selectin"
    )
    department: Mapped[Department] = relationship(lazy="joined")
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="resource",
        cascade="all, delete-orphan",
        order_by="(OpeningHours.weekday, OpeningHours.opens_minute)",
    )
    photos: Mapped[list[ResourcePhoto]] = relationship(
        back_populates="resource", cascade="all, delete-orphan", order_by="ResourcePhoto.id"
    )

    @property
    def root(self) -> Resource:
        """The resource whose rules apply: the hall for a part, else itself."""
        return self.parent or self

    def unit_ids(self) -> list[int]:
        """The units whose slots a booking of this resource occupies."""
        return [part.id for part in self.parts] or [self.id]

    def equipment_items(self) -> list[str]:
        return [item.strip() for item in self.equipment.split(",") if item.strip()]

    def __repr__(self) -> str:
        return f"<Resource {self.name}>"


class OpeningHours(db.Model):
    """One opening interval of a resource on a weekday, in local wall-clock minutes."""

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint(
            "opens_minute >= 0 AND closes_minute <= 1440 AND opens_minute < closes_minute",
            name="minutes_ordered",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resource.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)  # Monday = 0
    opens_minute: Mapped[int] = mapped_column(Integer)
    closes_minute: Mapped[int] = mapped_column(Integer)  # 1440 = midnight at the end

    resource: Mapped[Resource] = relationship(back_populates="opening_hours")


class ResourcePhoto(db.Model):
    __tablename__ = "resource_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resource.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(64), unique=True)
    alt_text: Mapped[str] = mapped_column(String(200))

    resource: Mapped[Resource] = relationship(back_populates="photos")


class Closure(TimestampMixin, db.Model):
    """A Sperrzeit: one resource (and its parts) or all resources closed for a while.

    ``[starts_at, ends_at)`` is the (first) closed interval.  A weekly closure repeats it
    every seven days at the same local wall-clock time until ``repeat_until``
    (inclusive, or for ever).  Public holidays are not stored: they come from the
    ``holidays`` package for the configured Bundesland.
    """

    __tablename__ = "closure"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_closure_range", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    weekly: Mapped[bool] = mapped_column(Boolean, default=False)
    repeat_until: Mapped[date | None] = mapped_column(Date)
    ical_uid: Mapped[str | None] = mapped_column(String(255), unique=True)

    resource: Mapped[Resource | None] = relationship(lazy="joined")


class Booking(TimestampMixin, db.Model):
    """A booking, request, guest hold or staff blocking of a resource for ``[starts_at, ends_at)``."""

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(f"status IN ({_values(BookingStatus)})", name="known_status"),
        CheckConstraint(f"kind IN ({_values(BookingKind)})", name="known_kind"),
        CheckConstraint(
            f"customer_group IS NULL OR customer_group IN ({_values(CustomerGroup)})",
            name="known_customer_group",
        ),
        CheckConstraint("attendees IS NULL OR attendees > 0", name="attendees_positive"),
        Index("ix_booking_resource_range", "resource_id", "starts_at"),
        Index("ix_booking_status_hold", "status", "hold_expires_at"),
        Index("ix_booking_club_range", "club_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(10), default=BookingKind.BOOKING)
    purpose: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[int | None] = mapped_column(Integer)
    customer_group: Mapped[str | None] = mapped_column(String(12))
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    # The private link to view, confirm or cancel; only the booker gets it by mail.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")  # why declined or cancelled
    club_id: Mapped[int | None] = mapped_column(ForeignKey("club.id", ondelete="SET NULL"))
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking_series.id", ondelete="SET NULL"), index=True
    )
    # A caretaker found the hall empty: "nicht genutzt" counts against the usage rate.
    unused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A partner system's request through the booking API: only that key sees and cancels it.
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking_api_key.id", ondelete="SET NULL"), index=True
    )

    resource: Mapped[Resource] = relationship(lazy="joined")
    club: Mapped[Club | None] = relationship("Club", lazy="joined")
    series: Mapped[BookingSeries | None] = relationship("BookingSeries")
    api_key: Mapped[PartnerKey | None] = relationship("PartnerKey")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def booker_name(self) -> str:
        """Whom a mail about the booking greets: the club, else the contact person."""
        return self.club.name if self.club is not None else self.contact_name

    def __repr__(self) -> str:
        return f"<Booking {self.id} {self.status} {self.starts_at:%Y-%m-%d %H:%M}>"


class BookingSlot(db.Model):
    """One grid slot of one unit held by one booking; the key that rules out overlaps."""

    __tablename__ = "booking_slot"
    __table_args__ = (PrimaryKeyConstraint("unit_id", "slot_start"),)

    unit_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"))
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), index=True
    )


class BookingNotice(db.Model):
    """A mail still to send (or sent) about a booking: the database is the outbox."""

    __tablename__ = "booking_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")

    booking: Mapped[Booking] = relationship()


# PostgreSQL only: at commit, every active booking must own exactly its slot rows (and an
# ended one none), so a raw INSERT of an overlapping booking cannot get past the slot key.
# The migration 0002_buchung creates the same function and trigger.
BOOKING_OWNS_SLOTS = f"""
CREATE FUNCTION booking_owns_slots() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b booking%ROWTYPE;
    units integer[];
    expected bigint := 0;
BEGIN
    SELECT * INTO b FROM booking WHERE id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    units := ARRAY(SELECT id FROM resource WHERE parent_id = b.resource_id);
    IF cardinality(units) = 0 THEN
        units := ARRAY[b.resource_id];
    END IF;
    IF b.status IN ({_values(ACTIVE_STATUSES)}) THEN
        expected := cardinality(units)
            * floor(extract(epoch FROM b.ends_at - b.starts_at) / {SLOT_MINUTES * 60});
    END IF;
    IF (SELECT count(*) FROM booking_slot s WHERE s.booking_id = b.id) <> expected
       OR (SELECT count(*) FROM booking_slot s
           WHERE s.booking_id = b.id AND s.unit_id = ANY(units)
             AND s.slot_start >= b.starts_at AND s.slot_start < b.ends_at
             AND extract(epoch FROM s.slot_start - b.starts_at)::bigint % {SLOT_MINUTES * 60} = 0
          ) <> expected THEN
        RAISE EXCEPTION 'booking % does not own exactly its slots', b.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER booking_owns_slots AFTER INSERT OR UPDATE ON booking
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION booking_owns_slots();
"""  # noqa: S608 - built from our own constants only
event.listen(
    BookingSlot.__table__,
    "after_create",
    DDL(BOOKING_OWNS_SLOTS.replace("%", "%%")).execute_if(dialect="postgresql"),
)

from buchung.api.models import PartnerKey  # noqa: E402, F401 - mapped beside Booking
from buchung.club_models import BookingSeries, Club, WaitlistEntry  # noqa: E402, F401 - mapped beside Booking
