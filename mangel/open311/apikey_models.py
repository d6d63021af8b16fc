"""API keys of the Open311 interface: who may post reports, in which categories, how often."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from lotse.apikeys import ApiKeyMixin
from lotse.extensions import db


class ApiKey(ApiKeyMixin, db.Model):
    """One client system (an app, a partner portal).  Only a hash of the key is stored."""

    __tablename__ = "api_key"
    KEY_PREFIX = "lotse_"

    # The first characters of the key, so admins can tell keys apart without the secret.
    key_prefix: Mapped[str] = mapped_column(String(12))
    # Category ids this key may post under; empty means every reportable category.
    category_ids: Mapped[list] = mapped_column(JSON, default=list)
    rate_limit: Mapped[str] = mapped_column(String(40), default="60 per hour")
    # Trusted clients check their users themselves: their reports skip the e-mail opt-in.
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)

    def allows(self, category_id: int) -> bool:
        return not self.category_ids or category_id in self.category_ids
