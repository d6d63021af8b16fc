"""Routing rules without a category: everything reported inside an area.

Revision ID: 0007_routing
Revises: 0006_season
Create Date: 2026-11-30 23:47:43.133886

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_routing"
down_revision = "0006_season"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mangel_routing_rule", schema=None) as batch_op:
        batch_op.alter_column("category_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_check_constraint(
            op.f("ck_mangel_routing_rule_category_or_area"),
            "category_id IS NOT NULL OR area_id IS NOT NULL",
        )
        batch_op.create_index(
            "uq_mangel_routing_rule_area_only",
            ["area_id"],
            unique=True,
            sqlite_where=sa.text("category_id IS NULL"),
            postgresql_where=sa.text("category_id IS NULL"),
        )
        batch_op.create_index(
            "uq_mangel_routing_rule_category_only",
            ["category_id"],
            unique=True,
            sqlite_where=sa.text("area_id IS NULL"),
            postgresql_where=sa.text("area_id IS NULL"),
        )


def downgrade():
    op.execute("DELETE FROM mangel_routing_rule WHERE category_id IS NULL")
    with op.batch_alter_table("mangel_routing_rule", schema=None) as batch_op:
        batch_op.drop_index("uq_mangel_routing_rule_category_only")
        batch_op.drop_index("uq_mangel_routing_rule_area_only")
        batch_op.drop_constraint(op.f("ck_mangel_routing_rule_category_or_area"), type_="check")
        batch_op.alter_column("category_id", existing_type=sa.INTEGER(), nullable=False)
