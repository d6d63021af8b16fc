"""The citizen's way in: report in steps (confirming and support: ``mangel.confirmation``).

Steps 1 and 2 are plain GET forms (nothing is stored yet); step 3 is the one POST that
stores.  Every step works without JavaScript; the map only fills in the coordinates.  What
step 3 holds survives going back and a form sent back with a mistake (``mangel.drafts``).
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from limits import parse as parse_limit
from werkzeug.datastructures import MultiDict

from lotse.extensions import limiter
from lotse.inputs import db_int
from lotse.security import within_limit
from mangel import drafts, services
from mangel.confirmation import PENDING_KEY
from mangel.forms import (
    LocationForm,
    PhotoLocationForm,
    ReportForm,
    report_form_class,
)
from mangel.jobs import queue_report_confirmation
from mangel.models import Category
from mangel.photos import PhotoError, ProcessedPhoto, process_photo
from mangel.places import (
    CANDIDATE_LIMIT,
    Location,
    check_point,
    chosen_address,
    group_by_street,
    nearest_address,
    resolve_location,
    short_label,
)
from mangel.routing.roads import road_decision
from mangel.views import bp, map_config

PLACE_FIELDS = ("address", "lat", "lon")  # what step 2 chose, kept in the draft too


def _category_from(source) -> Category | None:
    category_id = db_int(source.get("category"))
    return services.reportable_category(category_id) if category_id is not None else None


def _category_step(error: str | None = None):
    status = 422 if error else 200
    return render_template(
        "mangel/new_category.html", tree=services.category_tree(), error=error
    ), status


def _location_step(category: Category, form: LocationForm, location: Location | None = None):
    photo_form = PhotoLocationForm(category=category.id)
    if location is not None:
        for name, message in (location.errors or {}).items():
            (photo_form if name == "photo" else form)[name].errors = [message]
    status = 422 if location is not None and location.errors else 200
    candidates = (location.candidates if location else None) or []
    limit = CANDIDATE_LIMIT
    return render_template(
        "mangel/new_location.html",
        category=category,
        form=form,
        photo_form=photo_form,
        candidate_groups=group_by_street(candidates[:limit]),
        more_candidates=len(candidates) > limit,
        draft=drafts.current(),
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
    args = request.args.to_dict()
    draft = drafts.current()
    if draft is not None and not any(args.get(k) for k in PLACE_FIELDS):
        # Back from "Kategorie ändern": the place chosen before is still the place.
        args.update({k: draft.fields.get(k) or "" for k in PLACE_FIELDS})
    return _location_step(category, LocationForm(MultiDict(args)))


@bp.route("/neu/ort/foto", methods=["POST"])
@limiter.limit(lambda: current_app.config["MANGEL_PHOTO_LOCATION_LIMIT_PER_IP"])
def location_from_photo():
    """Photo-first: keep the photo for the report and place the pin where it was taken."""
    category = _category_from(request.form)
    if category is None:
        return _category_step(_("Bitte wählen Sie eine Kategorie."))
    form = PhotoLocationForm()
    location_form = LocationForm(category=category.id)
    files = [f for f in (form.photo.data or []) if f and f.filename]
    if not (form.validate_on_submit() and files):
        if form.csrf_token.errors:
            abort(400)
        message = _("Bitte wählen Sie ein Foto aus.")
        return _location_step(category, location_form, Location(errors={"photo": message}))
    config = current_app.config
    try:
        processed = process_photo(
            files[0].stream,
            max_bytes=config["MANGEL_PHOTO_MAX_BYTES"],
            max_pixels=config["MANGEL_PHOTO_MAX_PIXELS"],
        )
    except PhotoError as exc:
        return _location_step(category, location_form, Location(errors={"photo": str(exc)}))
    draft = drafts.current(create=True)
    if len(draft.photos) < config["MANGEL_MAX_PHOTOS"]:
        draft.add_photo(processed)
        draft.save()
    if processed.gps is None:
        message = _(
            "Ihr Foto ist gespeichert, aber es enthält keine Ortsangabe. "
            "Bitte setzen Sie die Markierung oder geben Sie die Adresse ein."
        )
        return _location_step(category, location_form, Location(errors={"lat": message}))
    location = check_point(round(processed.gps[0], 6), round(processed.gps[1], 6))
    if not location.ok:
        return _location_step(category, location_form, location)
    flash(
        _(
            "Wir haben die Markierung an den Aufnahmeort Ihres Fotos gesetzt und das Foto "
            "Ihrer Meldung beigefügt. Bitte prüfen Sie den Ort und tippen Sie auf „Weiter“."
        ),
        "success",
    )
    return redirect(
        url_for(".new_location", category=category.id, lat=location.lat, lon=location.lon)
    )


@bp.route("/neu/entwurf", methods=["POST"])
@limiter.limit(lambda: current_app.config["MANGEL_PHOTO_LOCATION_LIMIT_PER_IP"])
def save_draft():
    """ "Ort ändern" / "Kategorie ändern" in step 3: keep everything typed and chosen, go back."""
    category = _category_from(request.form)
    form = report_form_class(category)()
    form.validate()
    if form.csrf_token.errors:
        abort(400)
    draft = _keep_in_draft(form, _read_photos(form, kept=len(_draft_photos())))
    if category is None or request.form.get("back") == "category":
        return redirect(url_for(".new_report"))
    args = {"category": category.id, "lat": form.lat.data or "", "lon": form.lon.data or ""}
    if draft.fields.get("address"):
        args["address"] = draft.fields["address"]
    return redirect(url_for(".new_location", **args))


@bp.route("/neu/entwurf/foto/<name>")
def draft_photo(name: str):
    """A photo kept for the report being written, to this browser only."""
    draft = drafts.current()
    path = draft.file(name) if draft else None
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _draft_photos() -> list:
    draft = drafts.current()
    return draft.photos if draft else []


def _keep_in_draft(form: ReportForm, photos: list[ProcessedPhoto]) -> drafts.Draft:
    """Remember what step 3 holds: the typed fields, the answers and the photos."""
    draft = drafts.current(create=True)
    draft.drop_photos(request.form.getlist("drop_photo"))
    names = [*drafts.TEXT_FIELDS, *PLACE_FIELDS] + [f.name for f in form.question_fields()]
    draft.fields = {name: form[name].data for name in names}
    room = current_app.config["MANGEL_MAX_PHOTOS"] - len(draft.photos)
    for processed in photos[: max(room, 0)]:
        draft.add_photo(processed)
    draft.save()
    return draft


def _details_step(category: Category | None, form: ReportForm, status=200):
    kept_photos = _draft_photos()
    if kept_photos:
        form.photos.label.text = _("Weitere Fotos (freiwillig)")
    return render_template(
        "mangel/new_details.html",
        category=category,
        form=form,
        place=_place_shown(form),
        kept_photos=kept_photos,
        map_config=map_config(),
        road=_road_authority(category, form),
    ), status


def _place_shown(form: ReportForm) -> str:
    """Step 3 names the place as the citizen knows it, not by its coordinates."""
    if form.address.data:
        return form.address.data
    try:
        lat, lon = float(form.lat.data), float(form.lon.data)
    except (TypeError, ValueError):
        return ""
    near = nearest_address(lat, lon)
    return _("nahe %(address)s", address=short_label(near)) if near else ""


def _road_authority(category: Category | None, form: ReportForm):
    """Before sending: a road authority that will handle it instead of the town, and why."""
    try:
        lat, lon = float(form.lat.data), float(form.lon.data)
    except (TypeError, ValueError):
        return None
    if category is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return road_decision(category, lat, lon)


def _read_photos(form: ReportForm, kept: int = 0) -> list[ProcessedPhoto]:
    """Check every photo before anything is stored; problems go to the photo field.

    ``kept`` photos are already waiting in the draft and count towards the limit.
    """
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
    if len(files) + kept > config["MANGEL_MAX_PHOTOS"]:
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
        point = {
            "category": category.id,
            "lat": location.lat,
            "lon": location.lon,
            "address": location.address
            or chosen_address(args.get("address", ""), location.lat, location.lon),
        }
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
        draft = drafts.current()
        kept = {k: v for k, v in (draft.fields if draft else {}).items() if k not in PLACE_FIELDS}
        return _details_step(category, report_form_class(category)(data={**kept, **point}))

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
    draft = drafts.current()
    if draft is not None:
        draft.drop_photos(request.form.getlist("drop_photo"))
        draft.save()
    kept = draft.processed_photos() if draft else []
    photos = kept + _read_photos(form, kept=len(kept))
    if category is not None and category.photo_required and not photos and not form.photos.errors:
        form.photos.errors.append(_("Für diese Kategorie brauchen wir mindestens ein Foto."))
    if any(field.errors for field in form):
        # The photos that were fine wait in the draft: nobody has to choose them again.
        if not form.photos.errors:
            _keep_in_draft(form, photos[len(kept) :])
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
        address_label=chosen_address(form.address.data or "", location.lat, location.lon),
    )
    tracking = None if token else services.issue_tracking_token(report)
    if token:
        queue_report_confirmation(report, token)
    services.commit_with_photos(written)
    drafts.discard()
    if token:
        session[PENDING_KEY] = report.id
        return redirect(url_for(".new_thanks"))
    flash(_("Danke! Ihre Meldung ist eingegangen."), "success")
    return redirect(url_for(".tracking", token=tracking))
