""" "Ist es behoben?": the signed link in the follow-up mail lets the reporter reopen."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lotse.extensions import db
from mangel.forms import ConfirmForm
from mangel.models import Report, ReportStatus, StatusChange
from mangel.signals import report_rerouted
from mangel.views import bp

# The mail goes out some weeks after closing; the link stays valid a while after that.
LINK_GRACE = timedelta(weeks=8)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="mangel-reopen")


def reopen_token(report_id: int) -> str:
    """The token of a report's reopen link (no database row needed)."""
    return _serializer().dumps(report_id)


def _report_for(token: str) -> Report:
    weeks = timedelta(weeks=current_app.config["MANGEL_FOLLOW_UP_WEEKS"])
    try:
        report_id = _serializer().loads(token, max_age=(weeks + LINK_GRACE).total_seconds())
    except BadSignature:
        abort(404)
    return db.get_or_404(Report, report_id)


@bp.route("/wieder-oeffnen/<token>", methods=["GET", "POST"])
def reopen(token: str):
    """The reporter says the defect is still there: reopen and send it to the department."""
    report = _report_for(token)
    form = ConfirmForm()
    if report.status_enum.is_open:
        flash(_("Die Meldung ist schon wieder offen."), "info")
        return redirect(url_for(".report_page", report_id=report.id))
    if form.validate_on_submit():
        report.status = ReportStatus.OPEN.value
        report.history.append(
            StatusChange(
                status=report.status, public_note=_("Von der meldenden Person wieder geöffnet.")
            )
        )
        db.session.flush()
        report_rerouted.send(report, reason="reopened", staff_user=None)
        db.session.commit()
        flash(
            _("Danke! Die Meldung ist wieder offen und an die zuständige Stelle gegangen."),
            "success",
        )
        return redirect(url_for(".report_page", report_id=report.id))
    return render_template("mangel/reopen.html", report=report, form=form)
