"""The rules of the Mängelmelder.  Functions add and flush; the view commits once."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    bindparam,
    cast,
    delete,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import ORMOption

from lotse.extensions import db
from lotse.geo import distance_m
from lotse.models import normalise_email, utcnow
from lotse.outbox import OutboxMail
from mangel.models import (
    OPEN_STATUSES,
    Category,
    Report,
    ReportPhoto,
    ReportStatus,
    StatusChange,
    Support,
    public_filter,
)
from mangel.photos import ProcessedPhoto, photo_path, save_photo
from mangel.places import nearest_address
from mangel.signals import report_confirmed

METRES_PER_DEGREE = 111_320


def upload_dir() -> Path:
    return Path(current_app.instance_path) / "uploads"


def hash_token(token: str) -> str:
    """Tokens are kept only as SHA-256: a leaked database confirms nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def _expiry() -> datetime:
    return utcnow() + timedelta(hours=current_app.config["MANGEL_CONFIRM_HOURS"])


def _keyed_hash(message: str) -> str:
    key = (current_app.config["MANGEL_HASH_KEY"] or current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def support_email_hash(report_id: int, email: str) -> str:
    """A keyed hash of an e-mail, salted per report: one support per address and report."""
    return _keyed_hash(f"{report_id}:{normalise_email(email)}")


def person_hash(email: str) -> str:
    """A keyed hash of an e-mail for every report alike, so that an original and its
    duplicates count a person who supported several of them once."""
    return _keyed_hash(f"person:{normalise_email(email)}")


# --- categories ----------------------------------------------------------------------


def category_tree(*leaf_options: ORMOption) -> list[tuple[Category, list[Category]]]:
    """Active main categories with their active leaves, in the admins' order; the leaves
    come in one query, with whatever ``leaf_options`` load along (their questions …)."""
    mains = db.session.scalars(
        select(Category)
        .where(Category.parent_id.is_(None), Category.active.is_(True))
        .order_by(Category.position, Category.name)
        .options(selectinload(Category.children).options(*leaf_options))
    )
    tree = []
    for main in mains:
        leaves = [c for c in main.children if c.active]
        if leaves:
            tree.append((main, leaves))
    return tree


def reportable_category(category_id: int | None) -> Category | None:
    """The leaf a citizen may report under, or ``None`` when it is unknown or inactive."""
    if not category_id:
        return None
    category = db.session.get(Category, category_id)
    if category is None or category.parent is None:
        return None
    if not (category.active and category.parent.active):
        return None
    return category


# --- reports -------------------------------------------------------------------------


def public_condition() -> ColumnElement[bool]:
    """Which reports the public may see: confirmed and not hidden by staff.

    Every public surface (list, map, feed, Open311, the duplicate step) filters with this, so
    a new one cannot forget the hidden flag.  Of a public report only the released parts are
    shown: ``description_released`` and ``Report.public_photos``.
    """
    return public_filter()  # "hidden = false", as the partial indexes state it


def public_reports() -> Select:
    """``select(Report)`` of the reports the public may see."""
    return select(Report).where(public_condition())


def find_duplicates(category: Category, lat: float, lon: float, limit: int = 5) -> list[Report]:
    """Open, public reports of the same category within the category's radius, nearest first."""
    radius = category.duplicate_radius_m
    if radius <= 0:
        return []
    dlat = radius / METRES_PER_DEGREE
    dlon = dlat / max(math.cos(math.radians(lat)), 0.1)
    candidates = db.session.scalars(
        public_reports().where(
            Report.category_id == category.id,
            Report.status.in_([s.value for s in OPEN_STATUSES]),
            Report.lat.between(lat - dlat, lat + dlat),
            Report.lon.between(lon - dlon, lon + dlon),
        )
    )
    near = [
        (distance_m(lat, lon, r.lat, r.lon), r)
        for r in candidates
        if distance_m(lat, lon, r.lat, r.lon) <= radius
    ]
    return [r for _, r in sorted(near, key=lambda pair: pair[0])][:limit]


def create_report(
    *,
    category: Category,
    lat: float,
    lon: float,
    description: str,
    answers: dict,
    name: str,
    email: str,
    phone: str,
    photos: list[ProcessedPhoto],
    address_label: str = "",
) -> tuple[Report, str | None, list[str]]:
    """Record a citizen's report, unconfirmed until they click the link in our e-mail.

    Returns the report, the raw confirmation token (``None`` for an anonymous report,
    which is public at once) and the photo files written, so that the caller can delete
    them again should the commit fail.
    """
    place = nearest_address(lat, lon)
    report = Report(
        address_label=address_label,
        category=category,
        department_id=category.department_id,
        status=ReportStatus.OPEN.value,
        lat=lat,
        lon=lon,
        street=place.street if place else "",
        nearest_address=place.label if place else "",
        description=description.strip(),
        answers=answers,
        reporter_name=name.strip(),
        reporter_email=normalise_email(email) if email else "",
        reporter_phone=phone.strip(),
    )
    token = None
    if report.reporter_email:
        token, report.confirm_token_hash = _new_token()
        report.confirm_expires_at = _expiry()
    else:
        report.confirmed_at = utcnow()
    report.history.append(StatusChange(status=ReportStatus.OPEN.value))
    db.session.add(report)
    return report, token, add_photos(report, photos)


def add_photos(report: Report, photos: list[ProcessedPhoto]) -> list[str]:
    """Store processed photos after a report's existing ones and flush.

    Returns the files written, for the caller to delete should the commit fail; on an
    error here they are deleted already.
    """
    written: list[str] = []
    try:
        for position, processed in enumerate(photos, start=len(report.photos)):
            file_name, thumb = save_photo(processed, upload_dir())
            written += [file_name, thumb]
            report.photos.append(
                ReportPhoto(
                    file_name=file_name,
                    thumb_name=thumb,
                    content_type=processed.content_type,
                    width=processed.width,
                    height=processed.height,
                    position=position,
                )
            )
        db.session.flush()
    except Exception:
        delete_photo_files(written)
        raise
    return written


def commit_with_photos(written: list[str]) -> None:
    """The single commit of a view or job that wrote photo files: should it fail, the files
    are deleted too, so that the disk follows the transaction."""
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        delete_photo_files(written)
        raise


def delete_photo_files(names: Iterable[str]) -> None:
    """Remove stored photo files; missing files are fine (a second purge, a failed write)."""
    for name in names:
        photo_path(upload_dir(), name).unlink(missing_ok=True)


def check_confirmation(kind: str, token: str) -> tuple[str, Report | Support | None]:
    """Look up the report (``meldung``) or support behind an e-mail link without using it.

    The outcome is ``valid``, ``confirmed`` (clicked before: the link keeps leading to the
    report), ``expired`` or ``unknown`` (never issued, or replaced by a newer mail).
    """
    model, hash_column, expiry_column = {
        "meldung": (Report, Report.confirm_token_hash, "confirm_expires_at"),
        "unterstuetzung": (Support, Support.token_hash, "token_expires_at"),
    }[kind]
    item = db.session.scalar(select(model).where(hash_column == hash_token(token)))
    if item is None:
        return "unknown", None
    if item.confirmed_at is not None:
        return "confirmed", item
    expires = getattr(item, expiry_column)
    if expires is None or expires < utcnow():
        return "expired", item
    return "valid", item


def tracking_token_for(confirm_token: str) -> str:
    """The private tracking link of a report confirmed with this link, derived from it.

    A second click on the confirmation link (a week later, from the same mail) opens the
    same tracking page without the database keeping either raw token.
    """
    return _keyed_hash(f"tracking:{confirm_token}")


def confirm_report(report: Report, confirm_token: str | None = None) -> str:
    """Make a report public and return the raw token of its private tracking link.

    Confirmed by the citizen's link (``confirm_token``), that link stays a way back to the
    tracking page; confirmed otherwise (staff intake, a trusted Open311 client), the
    tracking link is a random one.
    """
    report.confirmed_at = utcnow()
    report.confirm_expires_at = None
    if confirm_token is None:
        report.confirm_token_hash = None
        tracking = issue_tracking_token(report)
    else:
        tracking = tracking_token_for(confirm_token)
        report.tracking_token_hash = hash_token(tracking)
        db.session.flush()
    report_confirmed.send(report)
    return tracking


def renew_confirmation(report: Report) -> str:
    """A new confirmation link for an unconfirmed report ("Mail erneut senden").

    Returns the raw token; the link of the earlier mail stops working, so only one link is
    ever out there.
    """
    token, report.confirm_token_hash = _new_token()
    report.confirm_expires_at = _expiry()
    db.session.flush()
    return token


def issue_tracking_token(report: Report) -> str:
    """A fresh private tracking link for a report (replacing any earlier one)."""
    tracking, report.tracking_token_hash = _new_token()
    db.session.flush()
    return tracking


def report_by_tracking_token(token: str) -> Report | None:
    return db.session.scalar(
        select(Report).where(
            Report.tracking_token_hash == hash_token(token), Report.confirmed_at.is_not(None)
        )
    )


def public_report(report_id: int) -> Report | None:
    """A report the public may see (see ``public_condition``), else ``None``."""
    return db.session.scalar(public_reports().where(Report.id == report_id))


def withdrawn_report(report_id: int) -> Report | None:
    """A confirmed report its reporter withdrew: its public page says so instead of 404."""
    return db.session.scalar(
        select(Report).where(
            Report.id == report_id,
            Report.confirmed_at.is_not(None),
            Report.withdrawn_at.is_not(None),
        )
    )


# --- support ("Ich bin auch betroffen") ---------------------------------------------


def request_support(report: Report, email: str, notify: bool = False) -> tuple[Support, str] | None:
    """Start a support: a new or renewed confirmation token, or ``None`` if already counted.

    With ``notify`` the address is kept, to tell the supporter about status changes.
    """
    email_hash = support_email_hash(report.id, email)
    support = db.session.scalar(
        select(Support).where(Support.report_id == report.id, Support.email_hash == email_hash)
    )
    if support is not None and support.confirmed_at is not None:
        return None
    if support is None:
        support = Support(report_id=report.id, email_hash=email_hash)
        db.session.add(support)
    support.person_hash = person_hash(email)
    support.notify_email = normalise_email(email) if notify else None
    token, support.token_hash = _new_token()
    support.token_expires_at = _expiry()
    db.session.flush()
    return support, token


def confirm_support(support: Support) -> None:
    """Count a support; a second click on its link finds it counted."""
    support.confirmed_at = utcnow()
    support.token_expires_at = None
    db.session.flush()


def support_counts(report_ids: Iterable[int] | Select) -> dict[int, int]:
    """Confirmed supports per report, those of its duplicates included, each person once.

    ``report_ids`` may be a select of ids: a page of a thousand reports then costs no
    thousand bound parameters.

    A duplicate's own supports count for its original, so it has none of its own.
    """
    ids = report_ids
    if not isinstance(ids, Select):
        if not (listed := list(report_ids)):
            return {}
        # One list bound once: its three uses share the same parameters, which keeps the
        # statement short enough for the driver to reuse its parsed form.
        ids = bindparam("report_ids", listed, expanding=True)
    counted = func.coalesce(Report.duplicate_of_id, Report.id)
    rows = db.session.execute(
        select(
            counted, func.count(distinct(func.coalesce(Support.person_hash, Support.email_hash)))
        )
        .join(Report, Report.id == Support.report_id)
        .where(
            or_(Report.id.in_(ids), Report.duplicate_of_id.in_(ids)),
            counted.in_(ids),
            Support.confirmed_at.is_not(None),
        )
        .group_by(counted)
    )
    return dict(rows.all())


# --- housekeeping --------------------------------------------------------------------


def _mail_waiting(name: str, item_id):
    """An outbox mail about this item not yet sent: its link has not even arrived."""
    return exists().where(
        OutboxMail.ref == literal(f"{name}:").concat(cast(item_id, String)),
        OutboxMail.sent_at.is_(None),
        OutboxMail.failed_at.is_(None),
    )


def purge_unconfirmed(now: datetime | None = None) -> tuple[int, int, list[str]]:
    """Delete reports and supports whose confirmation link expired unused.

    Returns the numbers of reports and supports deleted and the photo files to remove
    once the deletion is committed.  Runs from ``flask lotse sweep``.
    """
    now = now or utcnow()
    reports = list(
        db.session.scalars(
            select(Report).where(
                Report.confirmed_at.is_(None),
                Report.confirm_expires_at < now,
                ~_mail_waiting("report", Report.id),
            )
        )
    )
    files = [n for r in reports for p in r.photos for n in (p.file_name, p.thumb_name)]
    for report in reports:
        db.session.delete(report)
    supports = db.session.execute(
        delete(Support)
        .where(
            Support.confirmed_at.is_(None),
            Support.token_expires_at < now,
            ~_mail_waiting("support", Support.id),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.flush()
    return len(reports), supports, files
