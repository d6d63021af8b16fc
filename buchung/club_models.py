"""Clubs (Vereine), their logins and their season series.

A club logs in with a ``ClubMember`` account, kept apart from the staff ``User``: its
Flask-Login id is prefixed (``"club:12"``), see ``lotse.auth.load_user``.  A series is a
rule (weekday, local time, every n weeks, date range); its occurrences (``Termine``) are
ordinary ``Booking`` rows with ``series_id`` set, so they claim slots like any booking.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from buchung.clock import format_hhmm
from lotse.extensions import db
from lotse.models import TimestampMixin, UTCDateTime, utcnow

WEEKDAY_SHORT = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")

if TYPE_CHECKING:
    from buchung.models import Booking, Resource


def token_hash(token: str) -> str:
    """What is stored of a secret feed token: its SHA-256, so a database leak reveals none."""
    return hashlib.sha256(token.encode()).hexdigest()


class Club(TimestampMixin, db.Model):
    """A Verein; the booking office approves it before it may book club-only halls."""

    __tablename__ = "club"
    __table_args__ = (
        CheckConstraint(
            "member_count IS NULL OR member_count BETWEEN 1 AND 1000000",
            name="member_count_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    register_number: Mapped[str] = mapped_column(String(40), default="")  # Vereinsregister
    contact_persons: Mapped[str] = mapped_column(String(400), default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Members as the club (with an application) or the office last entered them, and when:
    # a round may weigh turns by it.
    member_count: Mapped[int | None] = mapped_column(Integer)
    member_count_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The club agreed that the public plan, feed and API show its name instead of "belegt"
    # (where the town shows names at all, ``BUCHUNG_PUBLIC_CLUB_NAMES``).
    name_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    members: Mapped[list[ClubMember]] = relationship(
        back_populates="club", order_by="ClubMember.id"
    )

    @property
    def approved(self) -> bool:
        return self.approved_at is not None

    def approve(self) -> None:
        self.approved_at = self.approved_at or utcnow()

    def set_member_count(self, count: int) -> None:
        """Record the club's member count as of now (a re-entry of the same number too)."""
        self.member_count = count
        self.member_count_at = utcnow()

    def new_feed_token(self) -> str:
        """A fresh secret calendar link; the previous one stops working."""
        token = secrets.token_urlsafe(32)
        self.feed_token_hash = token_hash(token)
        return token

    def __repr__(self) -> str:
        return f"<Club {self.name}>"


class ClubMember(UserMixin, TimestampMixin, db.Model):
    """A club's login (e-mail and password); never a staff account."""

    __tablename__ = "club_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("club.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raised by logout: older sessions of this login stop working (see lotse.auth).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    club: Mapped[Club] = relationship(back_populates="members", lazy="joined")

    is_club = True  # templates tell club logins from staff by this

    def get_id(self) -> str:
        return f"club:{self.id}"

    def has_role(self, role: str) -> bool:
        """Club logins hold no staff role."""
        return False

    @property
    def is_active(self) -> bool:  # Flask-Login: only confirmed e-mail addresses log in
        return self.confirmed_at is not None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Season(TimestampMixin, db.Model):
    """A hall season (e.g. "Wintersaison 2026/27"): the date range series and allocation
    rounds plan for.  Holidays and closures inside it are skipped by each series, not here."""

    __tablename__ = "season"
    __table_args__ = (CheckConstraint("last_day >= first_day", name="days_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)

    def __repr__(self) -> str:
        return f"<Season {self.name}>"


class BookingSeries(TimestampMixin, db.Model):
    """A club's regular training: weekdays at a local time, every n weeks, within dates."""

    __tablename__ = "booking_series"
    __table_args__ = (
        CheckConstraint("every_weeks BETWEEN 1 AND 4", name="every_weeks_range"),
        CheckConstraint("last_day >= first_day", name="days_ordered"),
        CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
            name="minutes_ordered",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("club.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"))
    weekdays: Mapped[str] = mapped_column(String(20))  # "0,2": Monday and Wednesday
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    purpose: Mapped[str] = mapped_column(String(200))
    ended: Mapped[bool] = mapped_column(Boolean, default=False)
    season_id: Mapped[int | None] = mapped_column(
        ForeignKey("season.id", ondelete="SET NULL"), index=True
    )

    club: Mapped[Club] = relationship(lazy="joined")
    resource: Mapped[Resource] = relationship("Resource", lazy="joined")
    season: Mapped[Season | None] = relationship()

    @property
    def weekday_list(self) -> list[int]:
        return [int(d) for d in self.weekdays.split(",") if d]

    @property
    def label(self) -> str:
        """``Di 18:00–20:00 Drittel C: Volleyball Damen 1``: two series of one team differ."""
        days = "/".join(WEEKDAY_SHORT[d] for d in sorted(self.weekday_list))
        when = f"{days} {format_hhmm(self.start_minute)}–{format_hhmm(self.end_minute)}"
        return f"{when} {self.resource.name}: {self.purpose}"


class ClubQuota(db.Model):
    """At most ``max_minutes`` a week for a club in a hall (with its parts) in a season.

    A quota without a season is the default: it applies in a season that holds no quota of
    its own for that club and hall.
    """

    __tablename__ = "club_quota"
    __table_args__ = (
        UniqueConstraint("club_id", "resource_id", "season_id"),
        # NULLs are distinct in a unique constraint: one default per club and hall.
        Index(
            "uq_club_quota_default",
            "club_id",
            "resource_id",
            unique=True,
            sqlite_where=text("season_id IS NULL"),
            postgresql_where=text("season_id IS NULL"),
        ),
        CheckConstraint("max_minutes >= 0", name="max_minutes_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("club.id", ondelete="CASCADE"))
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"))
    season_id: Mapped[int | None] = mapped_column(
        ForeignKey("season.id", ondelete="CASCADE"), index=True
    )
    max_minutes: Mapped[int] = mapped_column(Integer)

    club: Mapped[Club] = relationship(lazy="joined")
    resource: Mapped[Resource] = relationship("Resource", lazy="joined")
    season: Mapped[Season | None] = relationship(lazy="joined")


class WaitlistEntry(db.Model):
    """Someone queues for a taken time; when it frees up, the first in line gets a hold.

    ``state``: ``waiting``, ``offered`` (``booking`` is the offered hold), ``lapsed`` (the
    offer was not confirmed in time) or ``booked``.
    """

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_waitlist_entry_state_start", "state", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(10), default="waiting")
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"))

    resource: Mapped[Resource] = relationship("Resource", lazy="joined")
    booking: Mapped[Booking | None] = relationship("Booking")
