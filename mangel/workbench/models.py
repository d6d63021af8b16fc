"""Staff workbench records: the audit log of every staff action and internal notes."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from lotse.extensions import db
from lotse.models import User, UTCDateTime, utcnow
from mangel.models import Category

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
    # Written by the reporter on their tracking page (mangel/tracking.py), no staff user.
    "citizen_addition": _l("Ergänzung der meldenden Person"),
    "withdrawn": _l("Von der meldenden Person zurückgezogen"),
}


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
