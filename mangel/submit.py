"""The citizen's way in: report in steps, confirm by e-mail, support an existing report.

Steps 1 and 2 are plain GET forms (nothing is stored yet); step 3 is the one POST that
stores.  Every step works without JavaScript; the map only fills in the coordinates.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from limits import parse as parse_limit

from lotse.extensions import db, limiter
from lotse.inputs import db_int
from lotse.security import within_limit
from mangel import services
from mangel.forms import (
    ConfirmForm,
    LocationForm,
    PhotoLocationForm,
    ReportForm,
    SupportForm,
    report_form_class,
)
from mangel.jobs import queue_report_confirmation, queue_support_confirmation, queue_tracking_link
from mangel.models import Category
from mangel.photos import PhotoError, ProcessedPhoto, photo_gps, process_photo
from mangel.places import Location, check_point, resolve_location
from mangel.routing.roads import road_decision
from mangel.views import bp, map_config, render_report


def _category_from(source) -> Category | None:
    category_id = db_int(source.get("category"))
    return services.reportable_category(category_id) if category_id is not None else None


def _category_step(error: str | None = None):
    status = 422 if error else 200
    return render_template(
        "mangel/new_category.html", tree=services.category_tree(), error=error
    ), status


def _location_step(category: Category, form: LocationForm, location: Location | None = None):
    if location is not None:
        for name, message in (location.errors or {}).items():
            form[name].errors = [message]
    status = 422 if location is not None and location.errors else 200
    return render_template(
        "mangel/new_location.html",
        category=category,
        form=form,
        photo_form=PhotoLocationForm(category=category.id),
        candidates=location.candidates if location else None,
        map_config=map_config(),
    ), status


@bp.route("/neu")
def new_report():
    """Step 1: choose what kind of problem it is."""
    return _category_step()


@bp.route("/neu/ort")
def new_location():
    """Step 2: place the pin on the map, or search an address, or type coordinates."""
    category = _category_from(request.args)
    if category is None:
        return _category_step(_("Bitte wählen Sie eine Kategorie."))
    return _location_step(category, LocationForm(request.args))


@bp.route("/neu/ort/foto", methods=["POST"])
@limiter.limit(lambda: current_app.config["MANGEL_PHOTO_LOCATION_LIMIT_PER_IP"])
def location_from_photo():
    """Step 2 shortcut: take the position from a photo's EXIF data; the photo is not kept."""
    category = _category_from(request.form)
    if category is None:
        return _category_step(_("Bitte wählen Sie eine Kategorie."))
    form = PhotoLocationForm()
    location_form = LocationForm(category=category.id)
    files = [f for f in (form.photo.data or []) if f and f.filename]
    if form.validate_on_submit() and files:
        config = current_app.config
        try:
            gps = photo_gps(
                files[0].stream,
                max_bytes=config["MANGEL_PHOTO_MAX_BYTES"],
                max_pixels=config["MANGEL_PHOTO_MAX_PIXELS"],
            )
        except PhotoError as exc:
            return _location_step(category, location_form, Location(errors={"lat": str(exc)}))
        if gps is None:
            message = _("Dieses Foto enthält keine Ortsangabe. Bitte setzen Sie die Markierung.")
            return _location_step(category, location_form, Location(errors={"lat": message}))
        location = check_point(round(gps[0], 6), round(gps[1], 6))
        if not location.ok:
            return _location_step(category, location_form, location)
        flash(_("Wir haben den Ort aus Ihrem Foto übernommen. Bitte prüfen Sie ihn."), "success")
        return redirect(
            url_for(".new_location", category=category.id, lat=location.lat, lon=location.lon)
        )
    message = _("Bitte wählen Sie ein Foto aus.")
    return _location_step(category, location_form, Location(errors={"lat": message}))


def _details_step(category: Category | None, form: ReportForm, duplicates=None, status=200):
    return render_template(
        "mangel/new_details.html",
        category=category,
        form=form,
        duplicates=duplicates or [],
        map_config=map_config(),
        road=_road_authority(category, form),
    ), status


def _road_authority(category: Category | None, form: ReportForm):
    """Before sending: a road authority that will handle it instead of the town, and why."""
    try:
        lat, lon = float(form.lat.data), float(form.lon.data)
    except (TypeError, ValueError):
        return None
    if category is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return road_decision(category, lat, lon)


def _read_photos(form: ReportForm) -> list[ProcessedPhoto]:
    """Check every photo before anything is stored; problems go to the photo field."""
    config = current_app.config
    if (request.content_length or 0) > config["MANGEL_MAX_UPLOAD_BYTES"]:
        megabytes = config["MANGEL_MAX_UPLOAD_BYTES"] // (1024 * 1024)
        form.photos.errors.append(
            _(
                "Die Fotos sind zusammen zu groß (höchstens %(mb)d MB). Bitte wählen Sie "
                "kleinere oder weniger Fotos.",
                mb=max(megabytes, 1),
            )
        )
        return []
    files = [f for f in (form.photos.data or []) if f and f.filename]
    if len(files) > config["MANGEL_MAX_PHOTOS"]:
        form.photos.errors.append(
            _("Bitte wählen Sie höchstens %(n)d Fotos.", n=config["MANGEL_MAX_PHOTOS"])
        )
        return []
    processed = []
    for number, upload in enumerate(files, start=1):
        try:
            processed.append(
                process_photo(
                    upload.stream,
                    max_bytes=config["MANGEL_PHOTO_MAX_BYTES"],
                    max_pixels=config["MANGEL_PHOTO_MAX_PIXELS"],
                )
            )
        except PhotoError as exc:
            form.photos.errors.append(_("Foto %(n)d: %(error)s", n=number, error=str(exc)))
    return processed


def _email_within_limit(email: str) -> bool:
    """Count submissions per e-mail address (hashed), in the limiter's storage."""
    item = parse_limit(current_app.config["MANGEL_REPORT_LIMIT_PER_EMAIL"])
    return within_limit(item, "mangel-report-email", services.hash_token(email.lower()))


@bp.route("/neu/angaben", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["MANGEL_REPORT_LIMIT_PER_IP"], methods=["POST"])
def new_details():
    """Step 3: similar reports nearby first, then description, photos, questions, contact."""
    if request.method == "GET":
        category = _category_from(request.args)
        if category is None:
            return _category_step(_("Bitte wählen Sie eine Kategorie."))
        args = request.args
        location = resolve_location(
            args.get("address", ""), args.get("lat", ""), args.get("lon", ""), args.get("pin", "")
        )
        if not location.ok:
            return _location_step(category, LocationForm(args), location)
        point = {"category": category.id, "lat": location.lat, "lon": location.lon}
        duplicates = (
            []
            if args.get("new")
            else services.find_duplicates(category, location.lat, location.lon)
        )
        if duplicates:
            return render_template(
                "mangel/new_duplicates.html",
                category=category,
                duplicates=duplicates,
                point=point,
            )
        return _details_step(category, report_form_class(category)(data=point))

    category = _category_from(request.form)
    form = report_form_class(category)()
    form.validate()
    if form.csrf_token.errors:
        abort(400)
    if category is None:
        form.category.errors.append(_("Bitte wählen Sie eine Kategorie."))
    location = resolve_location("", form.lat.data or "", form.lon.data or "")
    for message in (location.errors or {}).values():
        form.lat.errors.append(message)
    photos = _read_photos(form)
    if category is not None and category.photo_required and not photos and not form.photos.errors:
        form.photos.errors.append(_("Für diese Kategorie brauchen wir mindestens ein Foto."))
    if any(field.errors for field in form):
        return _details_step(category, form, status=422)
    if form.website.data:
        # A bot filled the honeypot: it sees the usual answer, nothing is stored.
        return redirect(url_for(".new_thanks"))
    if form.email.data and not _email_within_limit(form.email.data):
        form.email.errors.append(
            _(
                "Mit dieser E-Mail-Adresse wurden gerade viele Meldungen gesendet. "
                "Bitte versuchen Sie es später noch einmal."
            )
        )
        return _details_step(category, form, status=429)

    report, token, written = services.create_report(
        category=category,
        lat=location.lat,
        lon=location.lon,
        description=form.description.data,
        answers=form.answers(category),
        name=form.name.data or "",
        email=form.email.data or "",
        phone=form.phone.data or "",
        photos=photos,
    )
    tracking = None if token else services.issue_tracking_token(report)
    if token:
        queue_report_confirmation(report, token)
    services.commit_with_photos(written)
    if token:
        return redirect(url_for(".new_thanks"))
    flash(_("Danke! Ihre Meldung ist eingegangen."), "success")
    return redirect(url_for(".tracking", token=tracking))


@bp.route("/neu/danke")
def new_thanks():
    """After submitting: please confirm the report with the link we mailed."""
    return render_template("mangel/new_thanks.html")


@bp.route("/<int:report_id>/unterstuetzen", methods=["POST"])
@limiter.limit(lambda: current_app.config["MANGEL_SUPPORT_LIMIT_PER_IP"])
def support(report_id: int):
    """ "Ich bin auch betroffen": sends a confirmation link; each address counts once."""
    report = services.public_report(report_id)
    if report is None or not report.status_enum.is_open:
        abort(404)
    form = SupportForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return render_report(report, form=form), 422
    if not form.website.data:
        pending = services.request_support(report, form.email.data, form.notify.data)
        if pending is not None:
            support_row, token = pending
            queue_support_confirmation(support_row, form.email.data, token)
            db.session.commit()
    # The same answer whether the address had supported before: nothing to learn from it.
    flash(
        _("Danke! Bitte bestätigen Sie Ihre Unterstützung mit dem Link in unserer E-Mail."),
        "success",
    )
    return redirect(url_for(".report_page", report_id=report.id))


@bp.route("/bestaetigen/<any(meldung, unterstuetzung):kind>/<token>", methods=["GET", "POST"])
def confirm(kind: str, token: str):
    """The page behind an e-mail link: one button confirms the report or the support."""
    outcome, item = services.check_confirmation(kind, token)
    form = ConfirmForm()
    if outcome != "valid":
        return render_template("mangel/confirm.html", kind=kind, outcome=outcome, form=form), (
            410 if outcome == "expired" else 404
        )
    if form.validate_on_submit():
        if kind == "meldung":
            tracking = services.confirm_report(item)
            queue_tracking_link(item, tracking)
            db.session.commit()
            flash(
                _(
                    "Danke! Ihre Meldung ist bestätigt und jetzt öffentlich. Diese Seite ist Ihr "
                    "privater Link: Speichern Sie ihn als Lesezeichen, um den Stand zu verfolgen."
                ),
                "success",
            )
            return redirect(url_for(".tracking", token=tracking))
        services.confirm_support(item)
        db.session.commit()
        flash(_("Danke! Ihre Unterstützung ist gezählt."), "success")
        return redirect(url_for(".report_page", report_id=item.report_id))
    return render_template("mangel/confirm.html", kind=kind, outcome=outcome, form=form)
