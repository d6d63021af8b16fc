"""Photos of the repaired spot: a clerk adds one when closing a report as "erledigt".

Stored like the reporter's photos (re-encoded, without metadata, random names) and shown on
the public report page once the report is public, with the closing note they came with.
"""

from __future__ import annotations

from flask import abort, current_app, send_file
from flask_login import current_user
from sqlalchemy import or_, select

from lotse.auth import in_department_scope
from lotse.extensions import db
from mangel import services
from mangel.models import Report, StatusChange
from mangel.photos import photo_path, process_photo, save_photo
from mangel.views import bp
from mangel.workbench.models import AfterPhoto


def add_after_photo(report: Report, change: StatusChange, upload) -> list[str]:
    """Process and store the photo for this closing change; flush.  Raises PhotoError.

    Returns the files written, for ``services.commit_with_photos``.
    """
    config = current_app.config
    processed = process_photo(
        upload.stream,
        max_bytes=config["MANGEL_PHOTO_MAX_BYTES"],
        max_pixels=config["MANGEL_PHOTO_MAX_PIXELS"],
    )
    file_name, thumb_name = save_photo(processed, services.upload_dir())
    db.session.add(
        AfterPhoto(
            report_id=report.id,
            status_change_id=change.id,
            staff_user_id=current_user.id,
            file_name=file_name,
            thumb_name=thumb_name,
            width=processed.width,
            height=processed.height,
        )
    )
    db.session.flush()
    return [file_name, thumb_name]


@bp.route("/fotos/nachher/<name>")
def after_photo(name: str):
    """An after photo or its thumbnail: public with a public report, to its staff always."""
    row = db.session.execute(
        select(AfterPhoto, Report)
        .join(Report, Report.id == AfterPhoto.report_id)
        .where(or_(AfterPhoto.file_name == name, AfterPhoto.thumb_name == name))
    ).first()
    if row is None:
        abort(404)
    _photo, report = row
    released = report.is_public
    staff = in_department_scope(report.department_id) and current_user.has_role("clerk")
    if not (released or staff):
        abort(404)
    path = photo_path(services.upload_dir(), name)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=3600 if released else 0)
    if not released:
        response.headers["Cache-Control"] = "private, no-store"
    return response
