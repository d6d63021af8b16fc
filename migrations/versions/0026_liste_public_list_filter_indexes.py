"""Public list filtered by status, category or map area: partial indexes of public reports.

The list reads a page's ids from the index alone (``mangel.public_list._list_page``); with a
status or category filter, or below the map, it read every public report's row up to the
page.  On PostgreSQL the newest-first index now carries the coordinates for the map's list.

Revision ID: 0026_liste
Revises: 0025_merge
Create Date: 2026-12-02 10:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0026_liste"
down_revision = "0025_merge"
branch_labels = None
depends_on = None

PUBLIC_SQL = "confirmed_at IS NOT NULL AND hidden = false"


def upgrade():
    _newest_first(include=["lat", "lon"])
    op.create_index(
        "ix_report_public_status",
        "report",
        ["status", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text(PUBLIC_SQL),
        sqlite_where=sa.text(PUBLIC_SQL),
    )
    op.create_index(
        "ix_report_public_category",
        "report",
        ["category_id", "created_at", "id"],
        unique=False,
        postgresql_include=["status"],
        postgresql_where=sa.text(PUBLIC_SQL),
        sqlite_where=sa.text(PUBLIC_SQL),
    )


def downgrade():
    op.drop_index("ix_report_public_category", table_name="report")
    op.drop_index("ix_report_public_status", table_name="report")
    _newest_first(include=[])


def _newest_first(include: list[str]) -> None:
    op.drop_index("ix_report_public_created", table_name="report")
    op.create_index(
        "ix_report_public_created",
        "report",
        ["created_at", "id"],
        unique=False,
        postgresql_include=include,
        postgresql_where=sa.text(PUBLIC_SQL),
        sqlite_where=sa.text(PUBLIC_SQL),
    )
