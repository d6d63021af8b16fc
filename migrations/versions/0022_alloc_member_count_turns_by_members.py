"""Saisonvergabe: club member counts, turns weighted by members

Revision ID: 0022_alloc
Revises: 0016_quota
Create Date: 2026-12-02 06:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0022_alloc"
down_revision = "0016_quota"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("club", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("member_count_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            "member_count_range", "member_count IS NULL OR member_count BETWEEN 1 AND 1000000"
        )

    with op.batch_alter_table("allocation_round", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_allocation_round_known_turns"), type_="check")
        batch_op.create_check_constraint(
            "known_turns", "turns IN ('club', 'teams', 'members')"
        )


def downgrade():
    # Rounds weighted by members fall back to turns per club, the default.
    op.execute("UPDATE allocation_round SET turns = 'club' WHERE turns = 'members'")
    with op.batch_alter_table("allocation_round", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_allocation_round_known_turns"), type_="check")
        batch_op.create_check_constraint("known_turns", "turns IN ('club', 'teams')")

    with op.batch_alter_table("club", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_club_member_count_range"), type_="check")
        batch_op.drop_column("member_count_at")
        batch_op.drop_column("member_count")
