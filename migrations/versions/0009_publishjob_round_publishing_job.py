"""Saisonvergabe: publishing as a background job (states, queue time, last error).

Revision ID: 0009_publishjob
Revises: 0008_merge
Create Date: 2026-12-01 01:05:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009_publishjob"
down_revision = "0008_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("allocation_round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_queued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("job_error", sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f("ck_allocation_round_known_state"), type_="check")
        batch_op.create_check_constraint(
            "known_state", "state IN ('open', 'publishing', 'published', 'revoking')"
        )


def downgrade():
    op.execute("UPDATE allocation_round SET state = 'open' WHERE state = 'publishing'")
    op.execute("UPDATE allocation_round SET state = 'published' WHERE state = 'revoking'")
    with op.batch_alter_table("allocation_round", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_allocation_round_known_state"), type_="check")
        batch_op.create_check_constraint("known_state", "state IN ('open', 'published')")
        batch_op.drop_column("job_error")
        batch_op.drop_column("job_queued_at")
