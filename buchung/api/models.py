"""API keys of partner systems (a school administration, a sports association).

Made, checked and revoked as the Open311 keys of the Mängelmelder are (``lotse.apikeys``).
A key is scoped to halls and rooms: it may request bookings of those (and of their parts)
only, and sees only its own requests.
"""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotse.apikeys import ApiKeyMixin
from lotse.extensions import db
from lotse.models import User


class PartnerKey(ApiKeyMixin, db.Model):
    """One partner system's key for the booking API."""

    __tablename__ = "booking_api_key"
    KEY_PREFIX = "lotse_b_"

    # The first characters of the key, so staff can tell keys apart without the secret.
    key_prefix: Mapped[str] = mapped_column(String(16))
    # Ids of the halls and rooms (top level) it may book; their parts are included.
    resource_ids: Mapped[list] = mapped_column(JSON, default=list)
    # Where the mails about its requests go (the partner's booking desk).
    contact_email: Mapped[str] = mapped_column(String(254))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )

    created_by: Mapped[User | None] = relationship()

    def allows(self, resource) -> bool:
        """Whether this key may book ``resource`` (a scoped hall, or a part of one)."""
        return resource.root.id in self.resource_ids
