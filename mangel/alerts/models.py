"""An alert subscription and the events waiting for its daily digest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotse.extensions import db
from lotse.models import UTCDateTime, utcnow
from mangel.routing.models import Area

KINDS = ("radius", "area", "street")
FREQUENCIES = ("immediate", "daily")


class AlertSubscription(db.Model):
    """Where (a circle, an area or a street), what (categories, events), how often, to whom.

    Nothing but the address it is sent to is personal; the row is deleted on unsubscribe.
    A circle keeps its bounding box so the database drops far-away subscriptions first.
    """

    __tablename__ = "mangel_alert"
    __table_args__ = (
        Index("ix_mangel_alert_box", "confirmed", "min_lat", "max_lat"),
        Index("ix_mangel_alert_street", "confirmed", "street_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(200))  # "500 m um Bahnhofstraße 12"
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[int | None] = mapped_column(Integer)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    min_lon: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("mangel_area.id", ondelete="CASCADE"))
    street_key: Mapped[str | None] = mapped_column(String(120))
    category_ids: Mapped[list] = mapped_column(JSON, default=list)  # empty: every category
    on_new: Mapped[bool] = mapped_column(Boolean, default=True)
    on_status: Mapped[bool] = mapped_column(Boolean, default=False)
    frequency: Mapped[str] = mapped_column(String(10), default="immediate")
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirm_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    area: Mapped[Area | None] = relationship()


class AlertEvent(db.Model):
    """A report event waiting for a daily digest; deleted when the digest is queued."""

    __tablename__ = "mangel_alert_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("mangel_alert.id", ondelete="CASCADE"), index=True
    )
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(10))  # "new" or "status"
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscription: Mapped[AlertSubscription] = relationship()
