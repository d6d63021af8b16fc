"""Staff workbench records: the audit log of every staff action, internal notes and the
photos a clerk adds when closing a report."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, backref, declared_attr, mapped_column, relationship

from lotse.extensions import db
from lotse.models import User, UTCDateTime, utcnow
from mangel.models import Category, Report, StatusChange

PRIORITY_LABELS = {0: _l("normal"), 1: _l("hoch"), 2: _l("dringend")}
# How a priority/due-date change is stored: "0/– → 1/2026-12-09".
_PLAN = re.compile(r"^(\d)/(\S+) → (\d)/(\S+)$")
# How a redaction is stored: "1: 585,135 230×230, 10,10 50×40" (photo: left,top width×height).
_REDACT = re.compile(r"^(\d+): (.+)$")
_BOX = re.compile(r"^(\d+),(\d+) (\d+)×(\d+)$")

AUDIT_LABELS = {
    "accept": _l("Verantwortung übernommen"),
    "status": _l("Status geändert"),
    "note": _l("Interne Notiz"),
    "forward": _l("Weitergeleitet"),
    "recategorise": _l("Kategorie geändert"),
    "duplicate": _l("Duplikat von"),
    "move": _l("Ort geändert"),
    "move_corrected": _l("Ort korrigiert"),
    "recategorise_corrected": _l("Kategorie korrigiert"),
    "plan": _l("Priorität/Termin"),
    "edit_text": _l("Text bearbeitet (vorher)"),
    "description_released": _l("Beschreibung freigegeben"),
    "photos_released": _l("Fotos freigegeben"),
    "hidden": _l("Verborgen"),
    "redact": _l("Foto geschwärzt"),
    "photo_held": _l("Foto zurückgehalten"),
    "after_photo": _l("Foto danach veröffentlicht"),
    # Written by the reporter on their tracking page (mangel/tracking.py), no staff user.
    "citizen_addition": _l("Ergänzung der meldenden Person"),
    "withdrawn": _l("Von der meldenden Person zurückgezogen"),
}


def _day(value: str) -> str:
    return format_date(date.fromisoformat(value), "medium")


def plan_text(detail: str) -> str:
    """A stored priority/due-date change in words: "Priorität normal → hoch, Frist 09.12.2026"."""
    match = _PLAN.match(detail)
    if match is None:
        return detail
    old_priority, old_due, new_priority, new_due = match.groups()
    parts = []
    if old_priority != new_priority:
        parts.append(
            _(
                "Priorität %(old)s → %(new)s",
                old=PRIORITY_LABELS.get(int(old_priority), old_priority),
                new=PRIORITY_LABELS.get(int(new_priority), new_priority),
            )
        )
    if old_due != new_due:
        if new_due == "–":
            parts.append(_("Frist entfernt (war %(old)s)", old=_day(old_due)))
        elif old_due == "–":
            parts.append(_("Frist %(new)s", new=_day(new_due)))
        else:
            parts.append(_("Frist %(old)s → %(new)s", old=_day(old_due), new=_day(new_due)))
    return ", ".join(parts) or _("unverändert")


def redact_text(detail: str) -> str:
    """A stored redaction in words: "Foto 1: 230 × 230 Pixel bei 585, 135"."""
    match = _REDACT.match(detail)
    boxes = [_BOX.match(b.strip()) for b in match.group(2).split(", ")] if match else [None]
    if not all(boxes):
        return detail
    where = "; ".join(
        _("%(w)s × %(h)s Pixel bei %(x)s, %(y)s", x=b[1], y=b[2], w=b[3], h=b[4]) for b in boxes
    )
    return _("Foto %(n)s: %(where)s", n=match.group(1), where=where)


class StaffRecord:
    """A row a staff member wrote about a report, and when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @declared_attr
    def staff_user(cls) -> Mapped[User | None]:
        return relationship(User)


class AuditEntry(StaffRecord, db.Model):
    """Who did what to a report and when; ``detail`` keeps the values before and after."""

    __tablename__ = "report_audit_entry"

    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")

    @property
    def label(self) -> str:
        return AUDIT_LABELS.get(self.action, self.action)

    @property
    def text(self) -> str:
        """The change in words for the log (stored values are turned into names and dates)."""
        if self.action == "plan":
            return plan_text(self.detail)
        if self.action == "redact":
            return redact_text(self.detail)
        if self.detail in ("ja", "nein"):
            return _("ja") if self.detail == "ja" else _("nein")
        return self.detail


class InternalNote(StaffRecord, db.Model):
    """A note among staff; never shown to the public or the reporter."""

    __tablename__ = "report_internal_note"

    text: Mapped[str] = mapped_column(Text)


class ResponseTemplate(db.Model):
    """A prepared public note, offered for reports of its category and target status."""

    __tablename__ = "report_response_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("category.id", ondelete="CASCADE"), index=True
    )  # None: every category
    status: Mapped[str | None] = mapped_column(String(20))  # None: any status

    category: Mapped[Category | None] = relationship()


class AfterPhoto(db.Model):
    """A photo of the repaired spot a clerk adds when closing a report ("erledigt").

    It belongs to the status change it was released with: the public sees it on the report
    page together with that closing note.
    """

    __tablename__ = "report_after_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    status_change_id: Mapped[int] = mapped_column(
        ForeignKey("report_status_change.id", ondelete="CASCADE"), index=True
    )
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    file_name: Mapped[str] = mapped_column(String(80), unique=True)
    thumb_name: Mapped[str] = mapped_column(String(80), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(
        backref=backref(
            "after_photos",
            order_by="AfterPhoto.id",
            cascade="all, delete-orphan",
            passive_deletes=True,
        )
    )
    status_change: Mapped[StatusChange] = relationship()
