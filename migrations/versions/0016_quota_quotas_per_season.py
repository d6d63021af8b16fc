"""quotas per season: club_quota.season_id (NULL: the default, as every existing quota)

Revision ID: 0016_quota
Revises: 0015_merge
Create Date: 2026-12-02 05:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016_quota"
down_revision = "0015_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("club_quota", schema=None) as batch_op:
        batch_op.add_column(sa.Column("season_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint("uq_club_quota_club_id_resource_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_club_quota_club_id_resource_id_season_id"),
            ["club_id", "resource_id", "season_id"],
        )
        batch_op.create_index(batch_op.f("ix_club_quota_season_id"), ["season_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_club_quota_season_id_season"),
            "season",
            ["season_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_index(
        "uq_club_quota_default",
        "club_quota",
        ["club_id", "resource_id"],
        unique=True,
        sqlite_where=sa.text("season_id IS NULL"),
        postgresql_where=sa.text("season_id IS NULL"),
    )


def downgrade():
    # Season quotas have no place in the old table: only the defaults survive.
    op.execute("DELETE FROM club_quota WHERE season_id IS NOT NULL")
    op.drop_index("uq_club_quota_default", table_name="club_quota")
    with op.batch_alter_table("club_quota", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_club_quota_season_id_season"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_club_quota_season_id"))
        batch_op.drop_constraint(
            batch_op.f("uq_club_quota_club_id_resource_id_season_id"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_club_quota_club_id_resource_id"), ["club_id", "resource_id"]
        )
        batch_op.drop_column("season_id")
