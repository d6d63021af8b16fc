"""Admin page for departments' webhooks: create, change, delete, test delivery.

The shared secret signs every request (``X-Lotse-Signature``); it is shown once, when it is
made, like an API key, and never again.  Addresses must be https.
"""

from __future__ import annotations

import logging
import secrets
import time

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from lotse.auth import admin_required
from lotse.extensions import db
from lotse.inputs import LotseForm
from lotse.models import Department, utcnow
from mangel.admin import bp
from mangel.forms import ConfirmForm
from mangel.routing.delivery import post_signed, webhook_url_error
from mangel.routing.failures import human_error
from mangel.routing.models import DepartmentEndpoint

log = logging.getLogger(__name__)


class WebhookEditForm(LotseForm):
    """A webhook's address, and whether to replace its secret."""

    url = StringField(
        _l("Adresse (https)"),
        validators=[DataRequired(_l("Bitte geben Sie die Adresse ein.")), Length(max=500)],
        description=_l("Zum Beispiel https://system.beispiel.de/meldungen"),
        render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"},
    )
    new_secret = BooleanField(_l("Neues Geheimnis erzeugen (das bisherige gilt dann nicht mehr)"))
    submit = SubmitField(_l("Speichern"))

    def validate_url(self, field) -> None:
        problem = webhook_url_error(field.data or "")
        if problem:
            raise ValidationError(problem)


class WebhookForm(WebhookEditForm):
    """A new webhook for a department that has none: its reports go there as signed JSON."""

    department_id = SelectField(_l("Fachbereich"), coerce=int)
    new_secret = None  # a new webhook always gets a new secret
    submit = SubmitField(_l("Webhook anlegen"))

    def __init__(self, *args, departments=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.department_id.choices = [SelectChoice(0, _l("– bitte wählen –"))] + [
            SelectChoice(d.id, d.name) for d in departments
        ]

    def validate_department_id(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Bitte wählen Sie den Fachbereich."))


def _endpoints() -> list[tuple[DepartmentEndpoint, Department]]:
    rows = db.session.execute(
        select(DepartmentEndpoint, Department)
        .join(Department, Department.id == DepartmentEndpoint.department_id)
        .order_by(Department.name)
    )
    return [tuple(row) for row in rows]


def _free_departments(keep: int | None = None) -> list[Department]:
    """Departments without a webhook (and the one being edited)."""
    taken = select(DepartmentEndpoint.department_id)
    if keep is not None:
        taken = taken.where(DepartmentEndpoint.department_id != keep)
    return list(
        db.session.scalars(
            select(Department).where(Department.id.not_in(taken)).order_by(Department.name)
        )
    )


def _page(form: WebhookForm, status: int = 200, secret: str | None = None, saved=None):
    return (
        render_template(
            "mangel/admin/webhooks.html",
            endpoints=_endpoints(),
            form=form,
            secret=secret,
            saved=saved,
            action_form=ConfirmForm(),
        ),
        status,
    )


@bp.route("/webhooks", methods=["GET", "POST"])
@admin_required
def webhooks():
    """Every webhook with a test button; a new one for a department that has none."""
    form = WebhookForm(departments=_free_departments())
    if not form.validate_on_submit():
        return _page(form, 422 if form.errors else 200)
    endpoint = DepartmentEndpoint(
        department_id=form.department_id.data,
        webhook_url=form.url.data.strip(),
        webhook_secret=secrets.token_urlsafe(32),
    )
    db.session.add(endpoint)
    db.session.commit()
    fresh = WebhookForm(formdata=None, departments=_free_departments())
    saved = db.session.get(Department, endpoint.department_id)
    return _page(fresh, secret=endpoint.webhook_secret, saved=saved)


@bp.route("/webhooks/<int:department_id>", methods=["GET", "POST"])
@admin_required
def webhook_edit(department_id: int):
    """Change a webhook's address, optionally with a new secret (shown once)."""
    endpoint = db.get_or_404(DepartmentEndpoint, department_id)
    department = db.session.get(Department, department_id)
    form = WebhookEditForm(data={"url": endpoint.webhook_url})
    if not form.validate_on_submit():
        page = render_template("mangel/admin/webhook_edit.html", form=form, department=department)
        return page, (422 if form.errors else 200)
    endpoint.webhook_url = form.url.data.strip()
    secret = secrets.token_urlsafe(32) if form.new_secret.data else None
    if secret:
        endpoint.webhook_secret = secret
    db.session.commit()
    if secret:
        return _page(
            WebhookForm(formdata=None, departments=_free_departments()),
            secret=secret,
            saved=department,
        )
    flash(_("Der Webhook von %(name)s ist gespeichert.", name=department.name), "success")
    return redirect(url_for(".webhooks"))


@bp.post("/webhooks/<int:department_id>/loeschen")
@admin_required
def webhook_delete(department_id: int):
    """Remove a webhook: the department gets its reports by e-mail again."""
    endpoint = db.get_or_404(DepartmentEndpoint, department_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    department = db.session.get(Department, department_id)
    db.session.delete(endpoint)
    db.session.commit()
    if department.email:
        message = _(
            "Der Webhook von %(name)s ist gelöscht; Meldungen gehen wieder per E-Mail an %(email)s.",
            name=department.name,
            email=department.email,
        )
    else:
        message = _(
            "Der Webhook von %(name)s ist gelöscht; ohne E-Mail-Adresse gehen seine Meldungen "
            "an das Sammelpostfach.",
            name=department.name,
        )
    flash(message, "success")
    return redirect(url_for(".webhooks"))


@bp.post("/webhooks/<int:department_id>/test")
@admin_required
def webhook_test(department_id: int):
    """Send a signed test request now and say how the receiver answered."""
    endpoint = db.get_or_404(DepartmentEndpoint, department_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    department = db.session.get(Department, department_id)
    key = "test-" + secrets.token_hex(8)
    payload = {"test": True, "idempotency_key": key, "sent_at": utcnow().isoformat()}
    started = time.monotonic()
    try:
        status = post_signed(endpoint.webhook_url, endpoint.webhook_secret, payload, key)
    except Exception as exc:  # noqa: BLE001 - every failure is reported to the admin
        log.info("test delivery to %s failed: %s", endpoint.webhook_url, exc)
        flash(
            _(
                "Testzustellung an %(name)s fehlgeschlagen: %(error)s",
                name=department.name,
                error=human_error(f"{type(exc).__name__}: {exc}"),
            ),
            "error",
        )
    else:
        flash(
            _(
                "Testzustellung an %(name)s angekommen (Antwort %(status)d nach %(ms)d ms).",
                name=department.name,
                status=status,
                ms=round((time.monotonic() - started) * 1000),
            ),
            "success",
        )
    return redirect(url_for(".webhooks"))
