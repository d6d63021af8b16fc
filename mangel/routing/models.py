"""Routing and delivery tables: areas, routing rules, department endpoints, the outbox.

The outbox (``Delivery``) is the source of truth for what still has to leave the town
hall: every send to a department and every mail to a citizen is a row first, committed
with the change that caused it, and only then handed to RQ by id.  The rows are the
history too: a re-routed report keeps its earlier deliveries (``cancelled`` or ``sent``).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotse.extensions import db
from lotse.models import Department, UTCDateTime, utcnow
from mangel.models import Category, Report, StatusChange


class Area(db.Model):
    """A Zuständigkeitsgebiet: an Ortsteil or a road corridor, imported from GeoJSON."""

    __tablename__ = "mangel_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    geojson: Mapped[dict] = mapped_column(JSON)
    # The bounding box lets the database drop far-away areas before shapely looks.
    min_lat: Mapped[float] = mapped_column(Float)
    min_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    # Smaller areas are more specific: a corridor wins over the Ortsteil it crosses.
    size: Mapped[float] = mapped_column(Float, default=0.0)


class RoutingRule(db.Model):
    """Reports of a category and/or inside an area go to a department."""

    __tablename__ = "mangel_routing_rule"
    __table_args__ = (
        UniqueConstraint("category_id", "area_id"),
        CheckConstraint("category_id IS NOT NULL OR area_id IS NOT NULL", name="category_or_area"),
        # NULLs are distinct in a unique constraint: one rule per category without an
        # area and one per area without a category need indexes of their own.
        Index(
            "uq_mangel_routing_rule_category_only",
            "category_id",
            unique=True,
            sqlite_where=text("area_id IS NULL"),
            postgresql_where=text("area_id IS NULL"),
        ),
        Index(
            "uq_mangel_routing_rule_area_only",
            "area_id",
            unique=True,
            sqlite_where=text("category_id IS NULL"),
            postgresql_where=text("category_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: every category (in the rule's area).
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="CASCADE"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("mangel_area.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"))

    category: Mapped[Category | None] = relationship()
    area: Mapped[Area | None] = relationship()
    department: Mapped[Department] = relationship()


class DepartmentEndpoint(db.Model):
    """How an (external) department takes reports besides its e-mail inbox: a webhook."""

    __tablename__ = "mangel_department_endpoint"

    department_id: Mapped[int] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), primary_key=True
    )
    webhook_url: Mapped[str] = mapped_column(String(500))
    webhook_secret: Mapped[str] = mapped_column(String(200))


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    SENDING = "sending"  # claimed by a worker until locked_until
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry; an admin may retry
    CANCELLED = "cancelled"  # superseded by a re-routing before it was sent


class DeliveryMethod(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class Purpose(enum.StrEnum):
    """What a delivery is for: a department's copy, or a mail to the reporter."""

    DEPARTMENT = "department"
    FORWARDED = "forwarded"  # "Ihre Meldung wurde weitergeleitet"
    STATUS = "status"  # a public status change
    FOLLOW_UP = "follow_up"  # "Ist es behoben?" some weeks after closing


def _in(values) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


class Delivery(db.Model):
    """One message to send, with its state, attempts and last error (the outbox row)."""

    __tablename__ = "mangel_delivery"
    __table_args__ = (
        CheckConstraint(f"state IN ({_in(DeliveryState)})", name="known_state"),
        CheckConstraint(f"method IN ({_in(DeliveryMethod)})", name="known_method"),
        CheckConstraint(f"purpose IN ({_in(Purpose)})", name="known_purpose"),
        Index("ix_mangel_delivery_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    # None for the fallback inbox and for mails to the reporter.
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )
    status_change_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_status_change.id", ondelete="CASCADE")
    )
    purpose: Mapped[str] = mapped_column(String(20), default=Purpose.DEPARTMENT.value)
    method: Mapped[str] = mapped_column(String(10), default=DeliveryMethod.EMAIL.value)
    recipient: Mapped[str] = mapped_column(String(500))  # address or webhook URL
    state: Mapped[str] = mapped_column(String(10), default=DeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(200), default="")
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship()
    department: Mapped[Department | None] = relationship()
    status_change: Mapped[StatusChange | None] = relationship()


class SweepMark(db.Model):
    """When a once-a-day sweep step last ran (the stuck-deliveries summary)."""

    __tablename__ = "mangel_sweep_mark"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_run: Mapped[datetime] = mapped_column(UTCDateTime)
