"""API keys of client systems, one way for every feature: make, hash, check, list, revoke.

Open311 clients of the Mängelmelder and the booking API's partners hold such keys.  A key
is shown once, when it is made; the database keeps its SHA-256 (hex) and the key's first
characters, so staff can tell keys apart without the secret.  A feature's model adds its
scope (categories, halls) to :class:`ApiKeyMixin`; the staff page shows the keys with the
macros of ``templates/_apikeys.html``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import ClassVar, TypeVar

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, select
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from lotse.extensions import db
from lotse.inputs import LotseForm
from lotse.models import TimestampMixin, UTCDateTime, utcnow

# Random characters of a key kept next to its hash, after the feature's prefix.
SHOWN_CHARS = 6


class ApiKeyMixin(TimestampMixin):
    """What every API key row has.  Only a hash of the key is stored.

    A model sets ``KEY_PREFIX`` (how its keys begin, so a key tells where it belongs) and
    declares ``key_prefix`` itself: the column's length differs between the tables.
    """

    KEY_PREFIX: ClassVar[str]

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.name}>"


Key = TypeVar("Key", bound=ApiKeyMixin)


def hash_key(raw: str) -> str:
    """What is stored of a key: its SHA-256, so a leaked database lets no one in."""
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(model: type[Key], name: str, **scope) -> tuple[Key, str]:
    """Make a key for a client system; returns the row and the raw key, to be shown once."""
    raw = model.KEY_PREFIX + secrets.token_urlsafe(32)
    key = model(
        name=name.strip(),
        key_hash=hash_key(raw),
        key_prefix=raw[: len(model.KEY_PREFIX) + SHOWN_CHARS],
        **scope,
    )
    db.session.add(key)
    db.session.flush()
    return key, raw


def find_active(model: type[Key], raw: str | None) -> Key | None:
    """The unrevoked key behind a presented raw key, or ``None``."""
    if not raw:
        return None
    digest = hash_key(raw)
    key = db.session.scalar(select(model).where(model.key_hash == digest))
    # The lookup compares hashes, so its timing says nothing about a stored key; the
    # constant-time comparison is the check that does not depend on the database's rules.
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return None
    return key if key.active else None


def listing(model: type[Key]) -> Select:
    """All keys of ``model`` as staff see them: the active ones first, then by name."""
    return select(model).order_by(model.revoked_at.is_not(None), model.name)


def revoke(key: ApiKeyMixin) -> bool:
    """Revoke a key: its client can no longer call the API; what it sent stays.

    Returns whether the key was active (and is revoked now).
    """
    if not key.active:
        return False
    key.revoked_at = utcnow()
    return True


class NewKeyForm(LotseForm):
    """The staff form for a new key; a feature's form adds ``name = name_field(...)`` and
    the fields of the key's scope."""

    submit = SubmitField(_l("Schlüssel erzeugen"))


def name_field(label: str, description: str) -> StringField:
    """Who uses the key (the client system or partner): required, as long as a name may be."""
    return StringField(
        label,
        validators=[DataRequired(_l("Bitte geben Sie einen Namen ein.")), Length(max=120)],
        description=description,
    )


class RevokeForm(LotseForm):
    """A key's revoke button: a POST with the session's CSRF token, nothing else."""


def revoke_from_button(key: ApiKeyMixin) -> None:
    """The revoke button's view: revoke ``key`` when the form is valid and tell the user."""
    if RevokeForm().validate_on_submit() and revoke(key):
        db.session.commit()
        flash(_("Der Schlüssel „%(name)s“ ist widerrufen.", name=key.name), "success")
