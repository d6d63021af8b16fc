"""After step 3: confirm by e-mail (also a second time), mail the link again, and support
an existing report ("Ich bin auch betroffen")."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from limits import parse as parse_limit

from lotse.extensions import db, limiter
from lotse.security import within_limit
from mangel import services
from mangel.forms import ConfirmForm, ResendForm, SupportForm
from mangel.jobs import queue_report_confirmation, queue_support_confirmation, queue_tracking_link
from mangel.models import Report
from mangel.views import bp, render_report

PENDING_KEY = "mangel_pending_report"  # the report the thanks page may mail again


def _pending_report() -> Report | None:
    """The unconfirmed report this browser just sent, for "Mail erneut senden"."""
    report_id = session.get(PENDING_KEY)
    report = db.session.get(Report, report_id) if isinstance(report_id, int) else None
    return report if report is not None and report.reporter_email else None


def masked_email(email: str) -> str:
    """ "e•••@example.org": enough to recognise one's address on a shared screen."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


@bp.route("/neu/danke")
def new_thanks():
    """After submitting: please confirm the report with the link we mailed (or mail it again)."""
    report = _pending_report()
    return render_template(
        "mangel/new_thanks.html",
        form=ResendForm(),
        email=masked_email(report.reporter_email) if report else None,
    )


@bp.route("/neu/danke", methods=["POST"])
@limiter.limit(lambda: current_app.config["MANGEL_RESEND_LIMIT_PER_IP"])
def resend_confirmation():
    """ "Mail erneut senden": a new confirmation link, a few times an hour at most."""
    form = ResendForm()
    if not form.validate_on_submit():
        abort(400)
    report = _pending_report()
    if report is None:
        flash(_("Wir finden keine Meldung, die noch bestätigt werden muss."), "warning")
        return redirect(url_for(".new_thanks"))
    if report.confirmed_at is not None:
        flash(_("Ihre Meldung ist bereits bestätigt."), "success")
        return redirect(url_for(".new_thanks"))
    item = parse_limit(current_app.config["MANGEL_RESEND_LIMIT_PER_REPORT"])
    if not within_limit(item, "mangel-resend", str(report.id)):
        flash(
            _(
                "Wir haben die E-Mail gerade schon mehrmals geschickt. Bitte warten Sie "
                "einige Minuten und sehen Sie auch im Spam-Ordner nach."
            ),
            "warning",
        )
        return redirect(url_for(".new_thanks"))
    queue_report_confirmation(report, services.renew_confirmation(report))
    db.session.commit()
    flash(
        _(
            "Wir haben die E-Mail noch einmal an %(email)s geschickt. Nur der Link in der "
            "neuesten E-Mail gilt.",
            email=masked_email(report.reporter_email),
        ),
        "success",
    )
    return redirect(url_for(".new_thanks"))


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
    if outcome == "confirmed":
        return _confirmed_before(kind, token, item)
    if outcome != "valid":
        return render_template("mangel/confirm.html", kind=kind, outcome=outcome, form=form), (
            410 if outcome == "expired" else 404
        )
    if form.validate_on_submit():
        if kind == "meldung":
            tracking = services.confirm_report(item, token)
            queue_tracking_link(item, tracking)
            session.pop(PENDING_KEY, None)
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


def _confirmed_before(kind: str, token: str, item):
    """A second click on a confirmation link: where the first one led, with a friendly word."""
    if kind == "meldung":
        tracking = services.tracking_token_for(token)
        if services.report_by_tracking_token(tracking) is item:
            flash(_("Ihre Meldung ist bereits bestätigt. Hier sehen Sie ihren Stand."), "success")
            return redirect(url_for(".tracking", token=tracking))
    elif services.public_report(item.report_id) is not None:
        flash(_("Ihre Unterstützung ist bereits gezählt. Danke!"), "success")
        return redirect(url_for(".report_page", report_id=item.report_id))
    return render_template("mangel/confirm.html", kind=kind, outcome="confirmed", form=None)
