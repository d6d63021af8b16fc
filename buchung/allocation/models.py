"""Season allocation (Saisonvergabe): rounds, applications, allocations and their reasons.

A round (``AllocationRound``) offers halls for a season until an application deadline.
Clubs, schools and Kitas apply per team (``AllocationRequest``) with a first and a
second choice of weekdays and start time, a duration, sessions per week and up to three
halls in order of preference (``RequestHall``).  Requests hold no slots.  After the
deadline the proposal (``buchung.allocation.proposal``) or the office by hand writes
``Allocation`` rows (one weekly session each) and ``AllocationNote`` rows (why a wish was
or was not met); publishing turns every allocation into a ``BookingSeries`` through the
series service and records each date that could not be booked as an ``AllocationSkip``.

Priority classes (``PriorityClass``, e.g. Schule > Kita > Wettkampf > Training >
Gewerblich, lower ``rank`` first) are chosen per application, because one club's
competition team and its leisure group rank differently.  A class that needs evidence
(``needs_evidence``, e.g. Wettkampf: a league entry) stays "beantragt" until the office
confirms it (``AllocationRequest.class_confirmed``); until then the proposal counts the
application in the next class that needs none.  Classes that a club may not
claim for itself (``open_to_clubs`` false: Schule, Kita) are assigned per applicant by
the office (``ApplicantClass``); such an applicant's applications always carry it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from buchung.club_models import BookingSeries, Club, Season
from buchung.models import Resource
from lotse.extensions import db
from lotse.models import TimestampMixin, User, UTCDateTime, utcnow


class PriorityClass(db.Model):
    """A class of applicants; a lower ``rank`` is served first."""

    __tablename__ = "priority_class"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    rank: Mapped[int] = mapped_column(Integer)
    open_to_clubs: Mapped[bool] = mapped_column(Boolean, default=True)
    # A claim needs evidence (e.g. a league entry for Wettkampf) and the office's
    # confirmation; until then the application counts in the next class without one.
    needs_evidence: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    def __repr__(self) -> str:
        return f"<PriorityClass {self.rank} {self.name}>"


class ApplicantClass(db.Model):
    """The office's fixed class for an applicant (a school is always "Schule")."""

    __tablename__ = "applicant_class"

    club_id: Mapped[int] = mapped_column(
        ForeignKey("club.id", ondelete="CASCADE"), primary_key=True
    )
    priority_class_id: Mapped[int] = mapped_column(
        ForeignKey("priority_class.id", ondelete="CASCADE")
    )

    priority_class: Mapped[PriorityClass] = relationship(lazy="joined")


round_resource = Table(
    "allocation_round_resource",
    db.metadata,
    Column("round_id", ForeignKey("allocation_round.id", ondelete="CASCADE"), primary_key=True),
    Column("resource_id", ForeignKey("resource.id", ondelete="CASCADE"), primary_key=True),
)


class RoundState(enum.StrEnum):
    OPEN = "open"  # applications until the deadline, then the office allocates
    PUBLISHING = "publishing"  # the office clicked "Veröffentlichen"; a job books the series
    PUBLISHED = "published"
    REVOKING = "revoking"  # the office took the publication back; a job removes the series


class Turns(enum.StrEnum):
    """Whose turn it is among equal applicants: the fair-share unit of a round."""

    CLUB = "club"  # every applicant the same hours, whatever its number of teams
    TEAMS = "teams"  # hours in proportion to the applicant's applications (teams) in the class
    MEMBERS = "members"  # hours in proportion to the applicant's member count


class AllocationRound(TimestampMixin, db.Model):
    """One Vergaberunde: halls for a season, applications until the deadline."""

    __tablename__ = "allocation_round"
    __table_args__ = (
        CheckConstraint(
            "state IN ('open', 'publishing', 'published', 'revoking')", name="known_state"
        ),
        CheckConstraint("turns IN ('club', 'teams', 'members')", name="known_turns"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    season_id: Mapped[int] = mapped_column(ForeignKey("season.id", ondelete="RESTRICT"))
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10), default=RoundState.OPEN)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the publishing (or un-publishing) job was last handed to the queue, and why
    # its last run failed; the sweep hands a round stuck for long to the queue again.
    job_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    job_error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    # Who pressed "Veröffentlichen": the series are booked in the office's name, confirmed.
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    turns: Mapped[str] = mapped_column(String(10), default=Turns.CLUB, server_default="club")
    # How many lost dates (quota, conflicts) the office accepted when it published.
    accepted_gaps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    season: Mapped[Season] = relationship(lazy="joined")
    resources: Mapped[list[Resource]] = relationship(
        secondary=round_resource, order_by="Resource.name"
    )
    requests: Mapped[list[AllocationRequest]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="AllocationRequest.id"
    )
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])

    @property
    def published(self) -> bool:
        return self.state == RoundState.PUBLISHED

    @property
    def busy(self) -> bool:
        """A job is publishing or un-publishing the round right now."""
        return self.state in (RoundState.PUBLISHING, RoundState.REVOKING)

    def accepts_applications(self, now: datetime | None = None) -> bool:
        return self.state == RoundState.OPEN and (now or utcnow()) < self.deadline

    def __repr__(self) -> str:
        return f"<AllocationRound {self.name}>"


class AllocationRequest(TimestampMixin, db.Model):
    """One team's application: wished weekly sessions, in order of preference."""

    __tablename__ = "allocation_request"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 720", name="duration_range"),
        CheckConstraint("sessions_per_week BETWEEN 1 AND 7", name="sessions_range"),
        CheckConstraint(
            "first_start_minute >= 0 AND first_start_minute < 1440", name="first_start_range"
        ),
        CheckConstraint(
            "second_start_minute IS NULL OR (second_start_minute >= 0"
            " AND second_start_minute < 1440)",
            name="second_start_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("allocation_round.id", ondelete="CASCADE"), index=True
    )
    club_id: Mapped[int] = mapped_column(ForeignKey("club.id", ondelete="CASCADE"), index=True)
    team: Mapped[str] = mapped_column(String(120))
    priority_class_id: Mapped[int] = mapped_column(ForeignKey("priority_class.id"))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    sessions_per_week: Mapped[int] = mapped_column(Integer, default=1)
    first_weekdays: Mapped[str] = mapped_column(String(20))  # "0,2": Monday and Wednesday
    first_start_minute: Mapped[int] = mapped_column(Integer)
    second_weekdays: Mapped[str] = mapped_column(String(20), default="")
    second_start_minute: Mapped[int | None] = mapped_column(Integer)
    remark: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The office confirmed the claimed class (set when it confirms or sets the class).
    class_confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The receipt mail to the applicant: the application row is its outbox entry.
    receipt_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receipt_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    round: Mapped[AllocationRound] = relationship(back_populates="requests")
    club: Mapped[Club] = relationship(lazy="joined")
    priority_class: Mapped[PriorityClass] = relationship(lazy="joined")
    halls: Mapped[list[RequestHall]] = relationship(
        back_populates="request",
        cascade="all, delete-orphan",
        order_by="RequestHall.rank",
        lazy="selectin",
    )
    allocations: Mapped[list[Allocation]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="Allocation.weekday"
    )
    notes: Mapped[list[AllocationNote]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="AllocationNote.id"
    )

    def choices(self) -> list[tuple[int, list[int], int]]:
        """``(choice, weekdays, start minute)`` for the first and (if given) second choice."""
        found = [(1, _days(self.first_weekdays), self.first_start_minute)]
        if self.second_weekdays and self.second_start_minute is not None:
            found.append((2, _days(self.second_weekdays), self.second_start_minute))
        return found

    @property
    def class_pending(self) -> bool:
        """The claimed class needs evidence the office has not confirmed yet ("beantragt")."""
        return self.priority_class.needs_evidence and not self.class_confirmed

    @property
    def requested_minutes(self) -> int:
        """Wished minutes per week."""
        return self.duration_minutes * self.sessions_per_week

    @property
    def allocated_minutes(self) -> int:
        return sum(a.minutes for a in self.allocations)


def _days(text: str) -> list[int]:
    return [int(d) for d in text.split(",") if d]


class RequestHall(db.Model):
    """A hall (or a part of a divisible hall) an application names, rank 1 first."""

    __tablename__ = "allocation_request_hall"
    __table_args__ = (
        UniqueConstraint("request_id", "rank"),
        UniqueConstraint("request_id", "resource_id"),
        CheckConstraint("rank BETWEEN 1 AND 3", name="rank_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("allocation_request.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"))

    request: Mapped[AllocationRequest] = relationship(back_populates="halls")
    resource: Mapped[Resource] = relationship(lazy="joined")


class Allocation(db.Model):
    """One weekly session granted to an application; ``series`` once published."""

    __tablename__ = "allocation"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
            name="minutes_ordered",
        ),
        CheckConstraint("choice BETWEEN 0 AND 2", name="choice_range"),  # 0: set by hand
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("allocation_request.id", ondelete="CASCADE"), index=True
    )
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)
    choice: Mapped[int] = mapped_column(Integer)
    hall_rank: Mapped[int | None] = mapped_column(Integer)
    # Minutes the applicant had in its class when its turn came (the fair-share order).
    turn_minutes: Mapped[int | None] = mapped_column(Integer)
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking_series.id", ondelete="SET NULL"), unique=True
    )

    request: Mapped[AllocationRequest] = relationship(back_populates="allocations")
    resource: Mapped[Resource] = relationship(lazy="joined")
    series: Mapped[BookingSeries | None] = relationship()
    skips: Mapped[list[AllocationSkip]] = relationship(
        back_populates="allocation", cascade="all, delete-orphan", order_by="AllocationSkip.day"
    )

    @property
    def minutes(self) -> int:
        return self.end_minute - self.start_minute


class NoteReason(enum.StrEnum):
    """Why a wished session (choice, hall, weekday) was not granted."""

    HIGHER_CLASS = "higher_class"  # taken by an application of a higher priority class
    SAME_CLASS = "same_class"  # taken by an equal-priority application (fair share)
    BOOKED = "booked"  # held by an existing booking or series
    CLOSURE = "closure"  # the hall is closed then for most of the season
    QUOTA = "quota"  # the club's weekly quota for the hall is used up
    OUTSIDE_HOURS = "outside_hours"  # outside the hall's opening hours or time grid
    NOT_NEEDED = "not_needed"  # every wished session was granted already


class AllocationNote(db.Model):
    """One wish the proposal considered and did not grant, with the reason."""

    __tablename__ = "allocation_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("allocation_request.id", ondelete="CASCADE"), index=True
    )
    choice: Mapped[int] = mapped_column(Integer)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[AllocationRequest] = relationship(back_populates="notes")
    resource: Mapped[Resource] = relationship(lazy="joined")


class AllocationSkip(db.Model):
    """A date of a published allocation that could not be booked, and why."""

    __tablename__ = "allocation_skip"
    __table_args__ = (UniqueConstraint("allocation_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(
        ForeignKey("allocation.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10))  # closed, conflict, refused
    reason: Mapped[str] = mapped_column(Text)

    allocation: Mapped[Allocation] = relationship(back_populates="skips")


class ResultMail(db.Model):
    """The one result mail of a published round to an applicant; the database is the outbox."""

    __tablename__ = "allocation_result_mail"
    __table_args__ = (UniqueConstraint("round_id", "club_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("allocation_round.id", ondelete="CASCADE"))
    club_id: Mapped[int] = mapped_column(ForeignKey("club.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")

    round: Mapped[AllocationRound] = relationship()
    club: Mapped[Club] = relationship(lazy="joined")
