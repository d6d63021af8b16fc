"""API keys of partner systems: made on a staff page (shown once), looked up per request.

The booking office makes a key for a partner (a school administration, a sports
association) and scopes it to the halls it manages.  Making, checking and revoking are
``lotse.apikeys``, as for the Open311 keys.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from buchung.admin import managed_query, office_required
from buchung.api import ApiError
from buchung.api.models import PartnerKey
from buchung.forms import email_field
from buchung.models import Resource
from lotse import apikeys
from lotse.admin import CheckboxList
from lotse.extensions import db

admin_bp = Blueprint("buchung_api_keys", __name__, url_prefix="/verwaltung/buchung/api-schluessel")


def create_key(
    name: str, contact_email: str, resource_ids: list[int], created_by=None
) -> tuple[PartnerKey, str]:
    """Make a key for a partner system; returns the row and the raw key (shown once)."""
    return apikeys.issue(
        PartnerKey,
        name,
        contact_email=contact_email.strip(),
        resource_ids=sorted(set(resource_ids)),
        created_by=created_by,
    )


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
    key = apikeys.find_active(PartnerKey, raw)
    if key is None:
        raise ApiError(401, "invalid_key", "This API key is unknown or revoked.")
    return key


class PartnerKeyForm(apikeys.NewKeyForm):
    """A new key: which partner uses it, where its mails go, which halls it may book."""

    name = apikeys.name_field(
        _l("Partner"), _l("Wer den Schlüssel nutzt, zum Beispiel „Schulverwaltung“.")
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

    def __init__(self, halls: list[Resource], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.resources.choices = [SelectChoice(h.id, h.name) for h in halls]


def _managed_halls() -> list[Resource]:
    return list(db.session.scalars(managed_query().where(Resource.parent_id.is_(None))))


def _visible_keys(halls: list[Resource]) -> list[PartnerKey]:
    """Keys for any hall this staff member manages (all keys for admins)."""
    ids = {h.id for h in halls}
    keys = db.session.scalars(apikeys.listing(PartnerKey))
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
    )


@admin_bp.route("/<int:key_id>/widerrufen", methods=["POST"])
@office_required
def key_revoke(key_id: int):
    """Revoke a key: the partner can no longer request; its bookings stay."""
    key = db.get_or_404(PartnerKey, key_id)
    if key in _visible_keys(_managed_halls()):
        apikeys.revoke_from_button(key)
    return redirect(url_for(".key_list"))
