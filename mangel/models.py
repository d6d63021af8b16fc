"""Mängelmelder models: categories with their questions, reports, photos, history, support.

The tables are shaped for the later issues too: routing (issue 4) reads
``Report.department_id`` and adds its own outbox table; the staff workbench (issue 5)
writes ``StatusChange`` rows; Open311 (issue 6) maps ``Category`` to services,
``CategoryQuestion`` to service attributes and ``ReportStatus.open311`` to open/closed.
"""

from __future__ import annotations

import enum
import math
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
    false,
    func,
    inspect,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotse.extensions import db
from lotse.models import Department, TimestampMixin, User, UTCDateTime, utcnow


class ReportStatus(enum.StrEnum):
    """Where a report stands; the first three are open, the rest closed (Open311)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    FIXED = "fixed"
    UNSOLVABLE = "unsolvable"
    NOT_RESPONSIBLE = "not_responsible"
    DUPLICATE = "duplicate"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES

    @property
    def open311(self) -> str:
        return "open" if self.is_open else "closed"

    @property
    def label(self):
        return STATUS_LABELS[self]


OPEN_STATUSES = frozenset({ReportStatus.OPEN, ReportStatus.IN_PROGRESS, ReportStatus.WAITING})
STATUS_LABELS = {
    ReportStatus.OPEN: _l("offen"),
    ReportStatus.IN_PROGRESS: _l("in Bearbeitung"),
    ReportStatus.WAITING: _l("wartet auf Dritte"),
    ReportStatus.FIXED: _l("erledigt"),
    ReportStatus.UNSOLVABLE: _l("nicht lösbar"),
    ReportStatus.NOT_RESPONSIBLE: _l("nicht zuständig"),
    ReportStatus.DUPLICATE: _l("Duplikat"),
}
MAP_CELL_DEG = 0.005  # about 550 × 350 m around Düren


def map_cell(lat: float, lon: float) -> int:
    """The cell of a coarse grid a point lies in: a map box asks for a handful of cells,
    so the database reads only the reports near the box, not a whole band of latitude."""
    row = math.floor((lat + 90) / MAP_CELL_DEG)
    return row * 100_000 + math.floor((lon + 180) / MAP_CELL_DEG)


PUBLIC_SQL = "confirmed_at IS NOT NULL AND hidden = false"  # as ``Report.is_public``
_STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s.value}'" for s in ReportStatus))


class QuestionType(enum.StrEnum):
    """The datatypes of Open311 service attributes, nothing more."""

    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"

    @property
    def has_options(self) -> bool:
        return self in (QuestionType.SINGLEVALUELIST, QuestionType.MULTIVALUELIST)


QUESTION_TYPE_LABELS = {
    QuestionType.STRING: _l("Kurzer Text"),
    QuestionType.NUMBER: _l("Zahl"),
    QuestionType.DATETIME: _l("Datum"),
    QuestionType.TEXT: _l("Längerer Text"),
    QuestionType.SINGLEVALUELIST: _l("Eine Auswahl"),
    QuestionType.MULTIVALUELIST: _l("Mehrfachauswahl"),
}


class Category(TimestampMixin, db.Model):
    """A main category (no parent) or a leaf a citizen reports under (with a parent)."""

    __tablename__ = "category"
    __table_args__ = (
        CheckConstraint(
            "duplicate_radius_m >= 0 AND duplicate_radius_m <= 2000", name="radius_range"
        ),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("category.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL")
    )
    photo_required: Mapped[bool] = mapped_column(Boolean, default=False)
    duplicate_radius_m: Mapped[int] = mapped_column(Integer, default=50)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by="(Category.position, Category.name)"
    )
    department: Mapped[Department | None] = relationship()
    questions: Mapped[list[CategoryQuestion]] = relationship(
        back_populates="category",
        cascade="all, delete-orphan",
        order_by="(CategoryQuestion.position, CategoryQuestion.id)",
    )

    @property
    def full_name(self) -> str:
        return f"{self.parent.name} – {self.name}" if self.parent else self.name

    def __repr__(self) -> str:
        return f"<Category {self.id} {self.name}>"


class CategoryQuestion(db.Model):
    """An extra question of a category (an Open311 service attribute)."""

    __tablename__ = "category_question"
    __table_args__ = (
        UniqueConstraint("category_id", "code"),
        CheckConstraint(
            "datatype IN ({})".format(", ".join(f"'{t.value}'" for t in QuestionType)),
            name="known_datatype",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(50))
    label: Mapped[str] = mapped_column(String(200))
    datatype: Mapped[str] = mapped_column(String(20), default=QuestionType.STRING.value)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # [{"key": "a", "name": "Ampel"}, …] for the list types, as Open311 lists them.
    options: Mapped[list] = mapped_column(JSON, default=list)

    category: Mapped[Category] = relationship(back_populates="questions")


class Address(db.Model):
    """One entry of the town's address list, for the address search and nearest address."""

    __tablename__ = "address"
    __table_args__ = (Index("ix_address_lat_lon", "lat", "lon"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    street: Mapped[str] = mapped_column(String(120))
    house_number: Mapped[str] = mapped_column(String(20), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    # Lower-cased "straße hausnummer" with spellings unified, searched by prefix.
    search_key: Mapped[str] = mapped_column(String(160), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)

    @property
    def label(self) -> str:
        place = " ".join(filter(None, [self.postcode, self.city]))
        line = " ".join(filter(None, [self.street, self.house_number]))
        return f"{line}, {place}" if place else line


class Report(TimestampMixin, db.Model):
    """A citizen's report.  Public once confirmed; text and photos only once released."""

    __tablename__ = "report"
    __table_args__ = (
        Index("ix_report_lat_lon", "lat", "lon"),
        # Covers the map's bbox query: it reads a few grid cells and never visits the table.
        Index(
            "ix_report_map",
            *("map_cell", "lat", "lon", "confirmed_at", "hidden", "status", "category_id", "id"),
            "created_at",
        ),
        # The public list (newest first) and the feed (last changed first) walk these and
        # stop after a page: only public reports are in them.  The list below the map
        # (``bbox``) finds its page in the index alone, by the coordinates it carries.
        Index(
            "ix_report_public_created",
            "created_at",
            "id",
            postgresql_include=["lat", "lon"],
            postgresql_where=text(PUBLIC_SQL),
            sqlite_where=text(PUBLIC_SQL),
        ),
        Index(
            "ix_report_public_updated",
            "updated_at",
            "id",
            postgresql_where=text(PUBLIC_SQL),
            sqlite_where=text(PUBLIC_SQL),
        ),
        # The public list filtered by status or category: the page's ids are read from the
        # index alone, however deep the page (the category's carries the status for both).
        Index(
            "ix_report_public_status",
            "status",
            "created_at",
            "id",
            postgresql_where=text(PUBLIC_SQL),
            sqlite_where=text(PUBLIC_SQL),
        ),
        Index(
            "ix_report_public_category",
            "category_id",
            "created_at",
            "id",
            postgresql_include=["status"],
            postgresql_where=text(PUBLIC_SQL),
            sqlite_where=text(PUBLIC_SQL),
        ),
        # The staff inbox: one department's reports by status, newest first.
        Index("ix_report_inbox", "department_id", "status", "created_at"),
        Index("ix_report_created_at", "created_at"),  # the admins' inbox, newest first
        Index(
            "ix_report_search",
            text("to_tsvector('german'::regconfig, (description || ' '::text) || street::text)"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
        CheckConstraint(_STATUS_CHECK, name="known_status"),
        CheckConstraint("priority >= 0 AND priority <= 2", name="priority_range"),
        CheckConstraint("lat >= -90 AND lat <= 90 AND lon >= -180 AND lon <= 180", name="coords"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("category.id", ondelete="RESTRICT"), index=True
    )
    # Responsible department: the category's at submission; routing (issue 4) may change it.
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=ReportStatus.OPEN.value, index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    map_cell: Mapped[int] = mapped_column(BigInteger)  # set from lat/lon on every save
    street: Mapped[str] = mapped_column(String(120), default="")
    nearest_address: Mapped[str] = mapped_column(String(200), default="")  # staff only
    # The address the citizen chose in step 2 ("Bahnhofstraße 12"), from the town's list.
    address_label: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_released: Mapped[bool] = mapped_column(Boolean, default=False)
    photos_released: Mapped[bool] = mapped_column(Boolean, default=False)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # question code → answer
    source: Mapped[str] = mapped_column(String(20), default="web")

    # Personal data: shown to staff only, never on a public page, feed or endpoint.
    reporter_name: Mapped[str] = mapped_column(String(120), default="")
    reporter_email: Mapped[str] = mapped_column(String(254), default="")
    reporter_phone: Mapped[str] = mapped_column(String(40), default="")

    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    tracking_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    category: Mapped[Category] = relationship()
    department: Mapped[Department | None] = relationship()
    photos: Mapped[list[ReportPhoto]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportPhoto.position"
    )
    history: Mapped[list[StatusChange]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="StatusChange.id"
    )

    # --- staff workbench (issue 5) ---
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    priority: Mapped[int] = mapped_column(Integer, default=0)  # 0 normal, 1 high, 2 urgent
    due_date: Mapped[date | None] = mapped_column(Date)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)  # hidden from the public
    original_description: Mapped[str | None] = mapped_column(Text)  # before staff edited it
    # Set while the report is closed as Duplikat: its reporter and supporters follow that one.
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("report.id", ondelete="SET NULL"), index=True
    )
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last escalation mail
    # The reporter took the report back: hidden from the public, the clerk decides the rest.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])
    duplicate_of: Mapped[Report | None] = relationship(
        remote_side=[id], foreign_keys=[duplicate_of_id]
    )

    @property
    def status_enum(self) -> ReportStatus:
        return ReportStatus(self.status)

    @property
    def is_public(self) -> bool:
        return self.confirmed_at is not None and not self.hidden

    @property
    def public_photos(self) -> list[ReportPhoto]:
        """The photos the public may see: all released ones that staff do not hold back."""
        return [p for p in self.photos if not p.held] if self.photos_released else []

    @property
    def place_label(self) -> str:
        """Where the report is, as people name it: the chosen address, else the street."""
        return place_label(self.address_label, self.street)

    def readable_answers(self) -> list[tuple[str, str]]:
        """The answers to the extra questions as people read them: (question, answer).

        Stored answers are keyed by question code and list answers by option key (Open311
        style); this is the one place that turns them into the labels the citizen saw, for
        the workbench, the department's mail, the CSV, Open311 and the webhook.  An answer
        whose question is gone (deleted, or another category now) keeps its code.
        """
        return readable_answers(self.answers, self.category.questions)

    def __repr__(self) -> str:
        return f"<Report {self.id} {self.status}>"


def place_label(address_label: str | None, street: str, near: str | None = None) -> str:
    """``Report.place_label`` for the two columns read without the report.

    ``near`` is "nahe %(street)s" already translated, for a list that writes many labels.
    """
    if address_label:
        return address_label
    if not street:
        return ""
    return (near or str(_l("nahe %(street)s"))) % {"street": street}


def readable_answers(
    stored: dict | None, questions: list[CategoryQuestion]
) -> list[tuple[str, str]]:
    """``Report.readable_answers`` for answers and questions loaded without the report."""
    answers = dict(stored or {})
    lines = []
    for question in questions:
        if question.code in answers:
            names = {str(o.get("key")): o.get("name", "") for o in question.options or []}
            lines.append((question.label, _answer_text(answers.pop(question.code), names)))
    return lines + [(code, _answer_text(value, {})) for code, value in answers.items()]


def _answer_text(value, names: dict[str, str]) -> str:
    values = value if isinstance(value, list) else [value]
    return ", ".join(names.get(str(v), str(v)) for v in values)


def public_filter():
    """The condition of a public report, written as the partial indexes state it
    (``PUBLIC_SQL``): ``hidden = false``, not ``hidden IS false``, or the planners of both
    databases walk past ``ix_report_public_created`` and ``ix_report_public_updated``."""
    return and_(Report.confirmed_at.is_not(None), Report.hidden == false())


# The staff inbox's full-text search on PostgreSQL: German stems of text and street, so
# "Schlagloch" finds "Schlaglöcher".  The GIN index ``ix_report_search`` (``Report``'s
# table arguments) holds the same expression as PostgreSQL prints it, so that alembic sees
# no drift; a query must use this expression to use the index.
GERMAN = text("'german'::regconfig")
REPORT_SEARCH_VECTOR = func.to_tsvector(
    GERMAN, Report.__table__.c.description + literal_column("' '") + Report.__table__.c.street
)


@event.listens_for(Report, "before_insert")
@event.listens_for(Report, "before_update")
def _place_in_grid(_mapper, _connection, report: Report) -> None:
    report.map_cell = map_cell(report.lat, report.lon)


CLUSTER_BASE_DEG = 0.0005  # about 55 m: the finest cluster grid (level 0)
CLUSTER_LEVELS = 17  # level n has cells of CLUSTER_BASE_DEG * 2**n, up to about 33°


class MapCluster(db.Model):
    """Public reports counted per cell of the cluster grids, one grid per zoom level.

    Kept current on every write of a report (``_count_in_clusters``), so the map reads the
    few cells in view instead of grouping the whole table; the rows stay bounded by the
    cells of the town, not by the number of reports.  Level ``n`` has cells of
    ``CLUSTER_BASE_DEG * 2**n``; its row and column are the level-0 ones shifted by ``n``.
    """

    __tablename__ = "map_cluster"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    row: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    col: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0)
    lat_sum: Mapped[float] = mapped_column(Float, default=0.0)
    lon_sum: Mapped[float] = mapped_column(Float, default=0.0)


def cluster_cell(lat: float, lon: float) -> tuple[int, int]:
    """Row and column of the level-0 cluster cell a point lies in."""
    return math.floor(lat / CLUSTER_BASE_DEG), math.floor(lon / CLUSTER_BASE_DEG)


def add_to_clusters(connection, counts: dict[tuple[int, int], list[float]]) -> None:
    """Add ``{(row, col): [count, lat_sum, lon_sum]}`` of level 0 to every level's cells."""
    rows: dict[tuple[int, int, int], list[float]] = {}
    for (row, col), (count, lat_sum, lon_sum) in counts.items():
        for level in range(CLUSTER_LEVELS):
            total = rows.setdefault((level, row >> level, col >> level), [0, 0.0, 0.0])
            total[0] += count
            total[1] += lat_sum
            total[2] += lon_sum
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = MapCluster.__table__
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.level, table.c.row, table.c.col],
        set_={
            "count": table.c.count + stmt.excluded.count,
            "lat_sum": table.c.lat_sum + stmt.excluded.lat_sum,
            "lon_sum": table.c.lon_sum + stmt.excluded.lon_sum,
        },
    )
    values = [
        {"level": k[0], "row": k[1], "col": k[2], "count": v[0], "lat_sum": v[1], "lon_sum": v[2]}
        for k, v in sorted(rows.items())  # one order for every writer: no deadlocks
    ]
    for start in range(0, len(values), 5000):
        connection.execute(stmt, values[start : start + 5000])


def _public_place(report: Report, committed: bool) -> tuple[float, float] | None:
    """Where the report counts on the public map, before (``committed``) or after the flush."""

    def value(name: str):
        if not committed:
            return getattr(report, name)
        history = inspect(report).attrs[name].history
        return history.deleted[0] if history.deleted else getattr(report, name)

    if value("confirmed_at") is None or value("hidden"):
        return None
    return value("lat"), value("lon")


def _change_clusters(connection, before, after) -> None:
    counts: dict[tuple[int, int], list[float]] = {}
    for place, sign in ((before, -1), (after, 1)):
        if place is not None:
            total = counts.setdefault(cluster_cell(*place), [0, 0.0, 0.0])
            total[0] += sign
            total[1] += sign * place[0]
            total[2] += sign * place[1]
    if before != after:
        add_to_clusters(connection, counts)


@event.listens_for(Report, "after_insert")
def _count_new_report(_mapper, connection, report: Report) -> None:
    _change_clusters(connection, None, _public_place(report, committed=False))


@event.listens_for(Report, "after_update")
def _count_changed_report(_mapper, connection, report: Report) -> None:
    _change_clusters(
        connection, _public_place(report, committed=True), _public_place(report, committed=False)
    )


@event.listens_for(Report, "after_delete")
def _uncount_deleted_report(_mapper, connection, report: Report) -> None:
    _change_clusters(connection, _public_place(report, committed=True), None)


class ReportPhoto(db.Model):
    """A processed photo of a report: metadata-free JPEG and thumbnail under instance/uploads."""

    __tablename__ = "report_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(80), unique=True)
    thumb_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    held: Mapped[bool] = mapped_column(Boolean, default=False)  # staff keep this one back

    report: Mapped[Report] = relationship(back_populates="photos")


class StatusChange(db.Model):
    """One entry of a report's history: the status set then, and an optional public note."""

    __tablename__ = "report_status_change"
    __table_args__ = (CheckConstraint(_STATUS_CHECK, name="known_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    public_note: Mapped[str] = mapped_column(Text, default="")
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="history")
    staff_user: Mapped[User | None] = relationship()

    @property
    def status_enum(self) -> ReportStatus:
        return ReportStatus(self.status)


class Support(db.Model):
    """ "Ich bin auch betroffen": one per e-mail and report, counted once confirmed.

    The e-mail is kept as keyed hashes: ``email_hash`` (per report) recognises a second
    attempt, ``person_hash`` (the same for every report) lets an original count a person
    once who supported it and one of its duplicates.  The address itself is stored only
    when the supporter asked to hear about changes (``notify_email``).
    """

    __tablename__ = "report_support"
    __table_args__ = (UniqueConstraint("report_id", "email_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    email_hash: Mapped[str] = mapped_column(String(64))
    person_hash: Mapped[str | None] = mapped_column(String(64))
    notify_email: Mapped[str | None] = mapped_column(String(254))  # personal data, staff only
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
