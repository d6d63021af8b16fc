"""Club accounts: registration, the e-mail confirmation link, approval by the office."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from buchung.club_models import Club, ClubMember
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
