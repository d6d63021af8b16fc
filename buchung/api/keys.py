"""API keys of partner systems: made on a staff page (shown once), looked up per request.

The booking office makes a key for a partner (a school administration, a sports
association) and scopes it to the halls it manages; the database keeps the key's SHA-256.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from buchung.admin import managed_query, office_required
from buchung.api import ApiError
from buchung.api.models import PartnerKey
from buchung.club_models import token_hash
from buchung.forms import ConfirmForm, email_field
from buchung.models import Resource
from lotse.admin import CheckboxList
from lotse.extensions import db
from lotse.inputs import LotseForm
from lotse.models import utcnow

admin_bp = Blueprint("buchung_api_keys", __name__, url_prefix="/verwaltung/buchung/api-schluessel")

KEY_PREFIX = "lotse_b_"


def create_key(
    name: str, contact_email: str, resource_ids: list[int], created_by=None
) -> tuple[PartnerKey, str]:
    """Make a key for a partner system; returns the row and the raw key (shown once)."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = PartnerKey(
        name=name.strip(),
        key_hash=token_hash(raw),
        key_prefix=raw[: len(KEY_PREFIX) + 6],
        contact_email=contact_email.strip(),
        resource_ids=sorted(set(resource_ids)),
        created_by=created_by,
    )
    db.session.add(key)
    db.session.flush()
    return key, raw


def request_key() -> PartnerKey:
    """The active key of this request (``Authorization: Bearer``, or ``X-Api-Key``)."""
    if "api_key" in request.args or "key" in request.args:
        raise ApiError(
            400, "key_in_url", "Send the API key in the Authorization header, not in the URL."
        )
    header = request.headers.get("Authorization", "")
    scheme, _sep, raw = header.partition(" ")
    raw = raw.strip() if scheme.lower() == "bearer" else ""
    raw = raw or request.headers.get("X-Api-Key", "").strip()
    if not raw:
        raise ApiError(401, "unauthorized", "An API key is needed: 'Authorization: Bearer <key>'.")
    key = db.session.scalar(select(PartnerKey).where(PartnerKey.key_hash == token_hash(raw)))
    if key is None or not key.active:
        raise ApiError(401, "invalid_key", "This API key is unknown or revoked.")
    return key


class PartnerKeyForm(LotseForm):
    """A new key: which partner uses it, where its mails go, which halls it may book."""

    name = StringField(
        _l("Partner"),
        validators=[DataRequired(_l("Bitte geben Sie einen Namen ein.")), Length(max=120)],
        description=_l("Wer den Schlüssel nutzt, zum Beispiel „Schulverwaltung“."),
    )
    contact_email = email_field(
        description=_l("Hierhin gehen die E-Mails zu den Anfragen des Partners."),
        autocomplete="off",
    )
    resources = CheckboxList(
        _l("Hallen und Räume"),
        coerce=int,
        validators=[DataRequired(_l("Bitte wählen Sie mindestens eine Halle oder einen Raum."))],
        description=_l("Der Schlüssel darf nur diese buchen (mit ihren Hallenteilen)."),
    )
    submit = SubmitField(_l("Schlüssel erzeugen"))

    def __init__(self, halls: list[Resource], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.resources.choices = [SelectChoice(h.id, h.name) for h in halls]


def _managed_halls() -> list[Resource]:
    return list(db.session.scalars(managed_query().where(Resource.parent_id.is_(None))))


def _visible_keys(halls: list[Resource]) -> list[PartnerKey]:
    """Keys for any hall this staff member manages (all keys for admins)."""
    ids = {h.id for h in halls}
    keys = db.session.scalars(
        select(PartnerKey).order_by(PartnerKey.revoked_at.is_not(None), PartnerKey.name)
    )
    return [k for k in keys if current_user.is_admin or ids & set(k.resource_ids)]


@admin_bp.route("/", methods=["GET", "POST"])
@office_required
def key_list():
    """The partner keys with their halls; a new key is shown once, right after it is made."""
    halls = _managed_halls()
    form = PartnerKeyForm(halls)
    new_key = None
    if form.validate_on_submit():
        _key, new_key = create_key(
            form.name.data, form.contact_email.data, form.resources.data, current_user
        )
        db.session.commit()
        form = PartnerKeyForm(halls, formdata=None)
    names = {h.id: h.name for h in db.session.scalars(select(Resource))}
    return render_template(
        "buchung/admin/api_keys.html",
        form=form,
        keys=_visible_keys(halls),
        names=names,
        new_key=new_key,
        revoke_form=ConfirmForm(),
    )


@admin_bp.route("/<int:key_id>/widerrufen", methods=["POST"])
@office_required
def key_revoke(key_id: int):
    """Revoke a key: the partner can no longer request; its bookings stay."""
    key = db.get_or_404(PartnerKey, key_id)
    if key not in _visible_keys(_managed_halls()):
        return redirect(url_for(".key_list"))
    if ConfirmForm().validate_on_submit() and key.active:
        key.revoked_at = utcnow()
        db.session.commit()
        flash(_("Der Schlüssel „%(name)s“ ist widerrufen.", name=key.name), "success")
    return redirect(url_for(".key_list"))
