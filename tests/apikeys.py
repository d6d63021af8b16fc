"""API keys as they were stored before ``lotse.apikeys``, to prove they keep working."""

from __future__ import annotations

import hashlib

from flask import Flask

from lotse.extensions import db


def store_key_as_before(app: Flask, model: type, raw: str, **scope) -> None:
    """A key row written the old way: the SHA-256 (hex) of ``raw`` and its first characters."""
    with app.app_context():
        db.session.add(
            model(
                name="Alt-Client",
                key_hash=hashlib.sha256(raw.encode()).hexdigest(),
                key_prefix=raw[: len(model.KEY_PREFIX) + 6],
                **scope,
            )
        )
        db.session.commit()
