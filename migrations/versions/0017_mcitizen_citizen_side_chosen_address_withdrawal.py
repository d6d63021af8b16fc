"""citizen side: the chosen address, withdrawal, the map pins' date

Revision ID: 0017_mcitizen
Revises: 0016_quota
Create Date: 2026-12-02 06:43:41.304993

"""

import sqlalchemy as sa
from alembic import op

revision = "0017_mcitizen"
down_revision = "0016_quota"
branch_labels = None
depends_on = None

MAP_COLUMNS = ["map_cell", "lat", "lon", "confirmed_at", "hidden", "status", "category_id", "id"]


def upgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address_label", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        # The map's popups show the date: the covering index carries it, so pins still come
        # from the index alone.
        batch_op.drop_index("ix_report_map")
        batch_op.create_index("ix_report_map", [*MAP_COLUMNS, "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_map")
        batch_op.create_index("ix_report_map", MAP_COLUMNS, unique=False)
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("address_label")
