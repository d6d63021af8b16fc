"""The reporter's private tracking page and what they do there: see their own photos, add
information ("Ergänzen"), withdraw the report ("Zurückziehen").

The page's token is the only key: whoever holds the link is the reporter.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from lotse.extensions import limiter
from mangel import services, tracking
from mangel.forms import AdditionForm, WithdrawForm
from mangel.models import Report
from mangel.photos import PhotoError, ProcessedPhoto, photo_path, process_photo
from mangel.views import bp, render_report


def _report(token: str) -> Report:
    report = services.report_by_tracking_token(token)
    if report is None:
        abort(404)
    return report


def _private(response):
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def tracking_page(report: Report, token: str, form: AdditionForm | None = None, status=200):
    """The report page as its reporter sees it: own text and photos, additions, actions."""
    page = render_report(
        report,
        private=True,
        token=token,
        addition_form=form or AdditionForm(),
        additions=tracking.additions(report),
    )
    return _private(current_app.make_response((page, status)))


@bp.route("/verfolgen/<token>", endpoint="tracking")
def tracking_view(token: str):
    """The reporter's private page: their own description and photos even before release."""
    return tracking_page(_report(token), token)


@bp.route("/verfolgen/<token>/fotos/<name>")
def tracking_photo(token: str, name: str):
    """One of the reporter's own photos (or its thumbnail), released or not."""
    report = _report(token)
    photo = next((p for p in report.photos if name in (p.file_name, p.thumb_name)), None)
    if photo is None:
        abort(404)
    path = photo_path(services.upload_dir(), name)
    if not path.is_file():
        abort(404)
    return _private(send_file(path, mimetype=photo.content_type, max_age=0))


def _read_addition_photos(form: AdditionForm, report: Report) -> list[ProcessedPhoto]:
    config = current_app.config
    files = [f for f in (form.photos.data or []) if f and f.filename]
    room = config["MANGEL_MAX_PHOTOS"]
    if len(files) > room:
        form.photos.errors.append(_("Bitte wählen Sie höchstens %(n)d Fotos.", n=room))
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


@bp.route("/verfolgen/<token>/ergaenzen", methods=["POST"])
@limiter.limit(lambda: current_app.config["MANGEL_ADDITION_LIMIT_PER_IP"])
def add_information(token: str):
    """ "Ergänzen": more text or photos, mailed to the responsible clerk and kept in history."""
    report = _report(token)
    if report.withdrawn_at is not None:
        flash(_("Diese Meldung ist zurückgezogen: Ergänzen ist nicht mehr möglich."), "warning")
        return redirect(url_for(".tracking", token=token))
    form = AdditionForm()
    valid = form.validate_on_submit()
    if form.csrf_token.errors:
        abort(400)
    photos = _read_addition_photos(form, report) if valid else []
    if valid and not form.photos.errors and not (form.text.data or "").strip() and not photos:
        form.text.errors.append(_("Bitte schreiben Sie etwas oder wählen Sie ein Foto aus."))
    if not valid or form.text.errors or form.photos.errors:
        return tracking_page(report, token, form, status=422)
    if not form.website.data:
        written = tracking.add_information(report, form.text.data or "", photos)
        services.commit_with_photos(written)
    flash(_("Danke! Ihre Ergänzung ist bei der zuständigen Stelle angekommen."), "success")
    return redirect(url_for(".tracking", token=token))


@bp.route("/verfolgen/<token>/zurueckziehen", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["MANGEL_ADDITION_LIMIT_PER_IP"], methods=["POST"])
def withdraw(token: str):
    """ "Zurückziehen": a page that says what it means, then one button."""
    report = _report(token)
    if report.withdrawn_at is not None or not report.status_enum.is_open:
        return redirect(url_for(".tracking", token=token))
    form = WithdrawForm()
    if form.validate_on_submit():
        tracking.withdraw(report, form.reason.data or "")
        services.commit_with_photos([])
        flash(
            _(
                "Ihre Meldung ist zurückgezogen und nicht mehr öffentlich. "
                "Die zuständige Stelle ist informiert."
            ),
            "success",
        )
        return redirect(url_for(".tracking", token=token))
    if form.csrf_token.errors:
        abort(400)
    status = 422 if request.method == "POST" else 200
    page = render_template("mangel/withdraw.html", report=report, form=form, token=token)
    return _private(current_app.make_response((page, status)))
