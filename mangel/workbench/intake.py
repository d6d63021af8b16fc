"""Assisted intake: staff of the Bürgerbüro or the 115 line record a caller's report.

The same steps as a citizen's (category, place, similar reports nearby, description, photos,
the category's questions), plus the channel it came in by (Telefon, Bürgerbüro, E-Mail,
Brief).  Contact data are optional; there is no double opt-in — the member of staff vouches
for the report, so it is confirmed (public, routed) at once.  The caller gets the private
tracking link only when they give an e-mail address, through the outbox.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, Length, Optional

from lotse.auth import roles_required
from lotse.extensions import db
from lotse.inputs import LotseForm
from lotse.models import normalise_email
from lotse.outbox import queue_mail
from lotse.urls import public_url
from mangel import services
from mangel.forms import EMAIL_MESSAGE, report_form_class, strip
from mangel.places import resolve_location
from mangel.submit import _read_photos
from mangel.workbench.actions import audit
from mangel.workbench.views import bp

CHANNELS = {
    "telefon": _l("Telefon"),
    "buergerbuero": _l("Bürgerbüro"),
    "email": _l("E-Mail"),
    "brief": _l("Brief"),
}
SOURCE_LABELS = {"web": _l("Internet"), "open311": _l("Open311"), **CHANNELS}


def _channel_choices() -> list[SelectChoice]:
    return [SelectChoice(key, label) for key, label in CHANNELS.items()]


class IntakeStartForm(LotseForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    category = SelectField(_l("Kategorie"), choices=[], validate_choice=False)
    channel = SelectField(_l("Eingang über"), choices=_channel_choices())
    submit = SubmitField(_l("Weiter"))


def intake_form_class(category):
    """The citizen's report form for this category, as staff fill it in for a caller."""

    class IntakeForm(report_form_class(category)):
        consent = None  # the caller agreed on the phone; staff don't tick for them
        website = None
        channel = SelectField(_l("Eingang über"), choices=_channel_choices())
        address = StringField(
            _l("Adresse"),
            filters=[strip],
            validators=[Optional(), Length(max=200)],
            description=_l("Straße und Hausnummer; oder Breite und Länge unten."),
        )
        lat = StringField(_l("Breitengrad (Nord)"), filters=[strip], validators=[Optional()])
        lon = StringField(_l("Längengrad (Ost)"), filters=[strip], validators=[Optional()])
        new_anyway = BooleanField(_l("Keine dieser Meldungen: als neue Meldung erfassen"))
        submit = SubmitField(_l("Meldung erfassen"))

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.name.label.text = _l("Name der meldenden Person (freiwillig)")
            self.email.label.text = _l("E-Mail-Adresse der meldenden Person (freiwillig)")
            self.email.description = _l(
                "Nur wenn sie den Stand verfolgen möchte: Sie bekommt dann den privaten Link."
            )
            self.email.validators = [Optional(), Email(EMAIL_MESSAGE), Length(max=254)]

    return IntakeForm


def _leaf_choices() -> list[SelectChoice]:
    return [
        SelectChoice(str(leaf.id), f"{main.name} – {leaf.name}")
        for main, leaves in services.category_tree()
        for leaf in leaves
    ]


@bp.route("/erfassen")
@roles_required("clerk")
def intake_start():
    """Step 1: the category and the channel."""
    form = IntakeStartForm(request.args)
    form.category.choices = _leaf_choices()
    return render_template("mangel/workbench/intake.html", start=form, form=None)


@bp.route("/erfassen/angaben", methods=["GET", "POST"])
@roles_required("clerk")
def intake():
    """Step 2: place, similar reports, description, photos, questions, contact."""
    source = request.form if request.method == "POST" else request.args
    category = services.reportable_category(
        int(source["category"]) if source.get("category", "").isdigit() else None
    )
    if category is None:
        flash(_("Bitte wählen Sie eine Kategorie."), "error")
        return redirect(url_for(".intake_start"))
    form = intake_form_class(category)(
        data={"category": category.id, "channel": request.args.get("channel", "telefon")}
    )
    if request.method == "GET":
        return render_template("mangel/workbench/intake.html", form=form, category=category)
    form.validate()
    location = resolve_location(form.address.data or "", form.lat.data or "", form.lon.data or "")
    for field, message in (location.errors or {}).items():
        getattr(form, field if field in ("address", "lat") else "address").errors.append(message)
    photos = _read_photos(form)
    duplicates = []
    if location.ok and not form.new_anyway.data:
        duplicates = services.find_duplicates(category, location.lat, location.lon)
    if any(field.errors for field in form) or duplicates:
        return render_template(
            "mangel/workbench/intake.html",
            form=form,
            category=category,
            duplicates=duplicates,
            candidates=location.candidates or [],
        ), (409 if duplicates and not form.errors else 422)
    report, _token, written = services.create_report(
        category=category,
        lat=location.lat,
        lon=location.lon,
        description=form.description.data,
        answers=form.answers(category),
        name=form.name.data or "",
        email="",  # no double opt-in: staff vouch for the report
        phone=form.phone.data or "",
        photos=photos,
    )
    report.confirmed_at = None
    report.source = form.channel.data if form.channel.data in CHANNELS else "telefon"
    email = normalise_email(form.email.data) if form.email.data else ""
    report.reporter_email = email
    db.session.flush()
    tracking = services.confirm_report(report)
    audit(report, "intake", str(CHANNELS[report.source]))
    if email:
        queue_mail(
            email,
            _l("Ihre Meldung Nr. %(id)d ist eingegangen", id=report.id),
            "mangel/emails/tracking_link",
            kind="mangel.tracking",
            ref=f"report:{report.id}",
            report=report,
            link=public_url("mangel.tracking", token=tracking),
        )
    services.commit_with_photos(written)
    flash(
        _(
            "Meldung Nr. %(id)d ist erfasst. Der private Link ging an %(email)s.",
            id=report.id,
            email=email,
        )
        if email
        else _(
            "Meldung Nr. %(id)d ist erfasst. Ohne E-Mail-Adresse bekommt niemand einen Link; "
            "nennen Sie der Person die Nummer.",
            id=report.id,
        ),
        "success",
    )
    return redirect(url_for(".report_view", report_id=report.id))
