"""Staff login and logout, and the decorators that guard staff pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import ColumnElement, false, select, true
from werkzeug.security import check_password_hash
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length

from lotse.extensions import db, limiter, login
from lotse.inputs import LotseForm
from lotse.models import User, email_lookup, utcnow

bp = Blueprint("auth", __name__)


class LoginForm(LotseForm):
    email = EmailField(
        _l("E-Mail-Adresse"),
        validators=[DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie Ihr Passwort ein.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Anmelden"))


# Other account kinds (a feature's club logins) keep ids like "club:12" in the session.
ACCOUNT_LOADERS: dict[str, Callable[[int], object]] = {}
# The account's session_version when this session logged in; a raised version ends it.
SESSION_VERSION_KEY = "_account_version"


@login.user_loader
def load_user(user_id: str):
    """The logged-in account of this session, unless its sessions were ended since."""
    kind, sep, rest = user_id.partition(":")
    number = rest if sep else user_id
    if not (number.isascii() and number.isdigit() and len(number) <= 18):
        return None
    if sep:
        loader = ACCOUNT_LOADERS.get(kind)
        account = loader(int(number)) if loader else None
    else:
        account = db.session.get(User, int(number))
    if account is None:
        return None
    if has_request_context() and session.get(SESSION_VERSION_KEY) != account.session_version:
        return None
    return account


def start_session(account) -> None:
    """Log ``account`` in on a fresh session: nothing planted before survives (fixation)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(account)
    session[SESSION_VERSION_KEY] = account.session_version


def end_sessions(account) -> None:
    """End every session of ``account`` (logout, password change, deactivation); flush only.

    The session cookie lives in the browser, so nothing can be deleted on our side: the
    account's version is raised instead, and ``load_user`` refuses older sessions.
    """
    account.session_version = (account.session_version or 0) + 1
    if current_user.is_authenticated and current_user._get_current_object() is account:
        session[SESSION_VERSION_KEY] = account.session_version


# Checked when no account has the address: as slow as a real check (same scrypt settings).
DUMMY_HASH = "scrypt:32768:8:1$rh22f4prTAlAFCH0$ad4a724a625c6d471bad22100421040e6c6df7c9e948d78ed6cc1a006cbb1082526a7fc999d50e7bb4757602037d289208cd5b3bf809dca55f905434c5bfe4be"


def password_matches(account, password: str) -> bool:
    """Whether ``password`` is the account's; without an account a dummy hash is checked,
    so that the answer takes as long and does not tell which addresses have accounts."""
    if account is None:
        check_password_hash(DUMMY_HASH, password)
        return False
    return account.check_password(password)


def login_account_key(kind: str) -> Callable[[], str]:
    """Rate-limit key of failed logins: the account *and* the address trying it, so that
    guessing is slowed down but nobody elsewhere can lock the owner out."""

    def key() -> str:
        email = request.form.get("email", "").strip().lower()
        return f"login-{kind}:{email}:{get_remote_address()}"

    return key


def login_failed(response) -> bool:
    """Only failed attempts count against an account's limit."""
    return response.status_code != 302


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/anmelden", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=login_account_key("staff"),
    methods=["POST"],
    deduct_when=login_failed,
)
def login_view():
    """Let staff sign in with e-mail and password; the message never says which was wrong."""
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(email_lookup(User.email, form.email.data)))
        if password_matches(user, form.password.data) and user.active:
            next_url = _safe_next(request.args.get("next"))
            start_session(user)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(next_url or url_for("core.staff_home"))
        # Shown at the password field, which has to be typed again anyway.
        form.password.errors.append(_("E-Mail-Adresse oder Passwort ist falsch."))
        failed = True
    return render_template("auth/login.html", form=form), 401 if failed else 200


@bp.route("/abmelden", methods=["POST"])
@login_required
def logout_view():
    """End this session and every other one of the account (staff or club)."""
    end_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Sie sind abgemeldet."), "success")
    return redirect(url_for("core.index"))


def is_staff() -> bool:
    """Whether the current login is a staff account (not a feature's club login)."""
    return current_user.is_authenticated and isinstance(current_user._get_current_object(), User)


def roles_required(*roles: str):
    """Allow a logged-in staff member holding any of ``roles`` (admins hold all)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not is_staff() or not any(current_user.has_role(role) for role in roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = roles_required("admin")


def department_scope(column) -> ColumnElement[bool]:
    """SQL condition: ``column`` (a department id) is one of the current staff member's
    departments; every department for admins, none for anybody else.

    The one rule behind every staff view of both services: a clerk sees the reports, a
    booking office the halls, bookings and allocation rounds of their own departments.
    """
    if not is_staff():
        return false()
    if current_user.is_admin:
        return true()
    ids = current_user.department_ids()
    return column.in_(ids) if ids else false()


def in_department_scope(department_id: int | None) -> bool:
    """Whether a row of ``department_id`` is within the current staff member's departments."""
    if not is_staff():
        return False
    return current_user.is_admin or department_id in current_user.department_ids()


def staff_required(view):
    """Allow any logged-in staff member; other accounts (a feature's club logins) get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not is_staff():
            abort(403)
        return view(*args, **kwargs)

    return wrapped
