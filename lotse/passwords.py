"""The password check shared by staff and club accounts: long enough is not enough."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common_passwords.txt"
TOO_COMMON = _l(
    "Dieses Passwort ist zu häufig und leicht zu erraten. Bitte wählen Sie ein anderes."
)


@cache
def _common() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    """Whether ``password`` is on the shipped list of common passwords (case-insensitive)."""
    return password.strip().lower() in _common()


def not_common(_form, field) -> None:
    """WTForms validator: refuse a password from the list with a message at the field."""
    if field.data and is_common(field.data):
        raise ValidationError(TOO_COMMON)
