"""Club accounts: registration, the e-mail confirmation link, approval by the office."""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from buchung.club_models import Club, ClubMember, token_hash
from lotse.extensions import db
from lotse.models import email_lookup

CONFIRM_MAX_AGE = 3 * 86400


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="club-member-email")


def confirmation_token(member: ClubMember) -> str:
    """The signed link token that confirms a club login's e-mail address."""
    return _serializer().dumps(member.id)


def member_from_token(token: str) -> ClubMember | None:
    """The club login a confirmation link belongs to; ``None`` if forged or too old."""
    try:
        member_id = _serializer().loads(token, max_age=CONFIRM_MAX_AGE)
    except BadSignature:
        return None
    return db.session.get(ClubMember, member_id)


def member_by_email(email: str) -> ClubMember | None:
    return db.session.scalar(select(ClubMember).where(email_lookup(ClubMember.email, email)))


def load_member(member_id: int) -> ClubMember | None:
    """Flask-Login's loader for ``"club:<id>"`` session ids."""
    return db.session.get(ClubMember, member_id)


def register_club(
    club_name: str, register_number: str, contact_persons: str, name: str, email: str, password: str
) -> ClubMember:
    """A new, unapproved club with its first (unconfirmed) login."""
    club = Club(name=club_name, register_number=register_number, contact_persons=contact_persons)
    member = ClubMember(club=club, name=name, email=email)
    member.set_password(password)
    db.session.add(member)
    db.session.flush()
    return member


PASSWORD_LINK_MAX_AGE = 2 * 3600  # a reset or invitation link works for two hours


def _password_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="club-member-password")


def password_token(member: ClubMember) -> str:
    """A link token to set the login's password: time-limited, and single-use because it
    carries a fingerprint of the current password hash (setting a password voids it)."""
    return _password_serializer().dumps([member.id, token_hash(member.password_hash)[:16]])


def member_from_password_token(token: str, max_age: int = PASSWORD_LINK_MAX_AGE):
    """The login a password link belongs to; ``None`` if forged, too old or used."""
    try:
        member_id, fingerprint = _password_serializer().loads(token, max_age=max_age)
    except (BadSignature, ValueError, TypeError):
        return None
    member = db.session.get(ClubMember, member_id)
    if member is None or token_hash(member.password_hash)[:16] != fingerprint:
        return None
    return member


def invite_member(club: Club, name: str, email: str) -> ClubMember:
    """Another login for the club; it sets its password from the mailed link."""
    member = ClubMember(club=club, name=name, email=email)
    member.set_password(secrets.token_urlsafe(32))  # unknown to anyone until the link is used
    db.session.add(member)
    db.session.flush()
    return member
