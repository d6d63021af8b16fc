"""Club logins: password reset by e-mail link, and inviting further logins of a club.

Both mail a link that sets the password (``buchung.services.clubs.password_token``): it
expires after two hours and works once.  The reset page says the same whether or not the
address is known, so it does not reveal who has a login.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from buchung.club_forms import InviteForm, NewPasswordForm, PasswordResetRequestForm
from buchung.club_views import bp, club_required, current_club
from buchung.services.clubs import (
    invite_member,
    member_by_email,
    member_from_password_token,
    password_token,
)
from lotse.auth import end_sessions
from lotse.extensions import db, limiter
from lotse.models import normalise_email, utcnow
from lotse.outbox import queue_mail


@bp.route("/passwort-vergessen", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
def password_forgotten():
    """Ask for a link that sets a new password."""
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        member = member_by_email(normalise_email(form.email.data))
        if member is not None:
            queue_mail(
                member.email,
                _("Neues Passwort für die Hallenbuchung"),
                "buchung/emails/club_password",
                kind="buchung.club_password",
                ref=f"club_member:{member.id}",
                member=member,
                token=password_token(member),
                invited_by=None,
            )
            db.session.commit()
        flash(
            _(
                "Wenn zu dieser Adresse ein Vereinslogin gehört, ist ein Link unterwegs. "
                "Er gilt zwei Stunden."
            ),
            "success",
        )
        return redirect(url_for("buchung_club.login"))
    return render_template("buchung/club/password_forgotten.html", form=form)


@bp.route("/passwort/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Set a password from a reset or invitation link (once, within two hours)."""
    member = member_from_password_token(token)
    if member is None:
        abort(404)
    form = NewPasswordForm()
    if form.validate_on_submit():
        member.set_password(form.password.data)
        end_sessions(member)  # a stolen session ends with the old password
        member.confirmed_at = member.confirmed_at or utcnow()  # the link proved the address
        db.session.commit()
        flash(_("Ihr Passwort ist gespeichert. Sie können sich jetzt anmelden."), "success")
        return redirect(url_for("buchung_club.login"))
    return render_template("buchung/club/set_password.html", form=form, member=member)


@bp.route("/logins", methods=["GET", "POST"])
@club_required
def members():
    """The club's logins; invite another person by e-mail."""
    club = current_club()
    form = InviteForm()
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        if member_by_email(email):
            form.email.errors.append(_("Mit dieser E-Mail-Adresse gibt es schon einen Login."))
        else:
            member = invite_member(club, form.name.data.strip(), email)
            queue_mail(
                email,
                _("Einladung zur Hallenbuchung von %(club)s", club=club.name),
                "buchung/emails/club_password",
                kind="buchung.club_invite",
                ref=f"club_member:{member.id}",
                member=member,
                token=password_token(member),
                invited_by=current_user.name,
            )
            db.session.commit()
            flash(_("%(email)s ist eingeladen.", email=email), "success")
            return redirect(url_for("buchung_club.members"))
    return render_template("buchung/club/members.html", club=club, form=form)
