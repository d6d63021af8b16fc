"""Merge the performance work (map clusters, FTS, public indexes) into the main line.

Revision ID: 0015_merge
Revises: 0014_merge, 0010_perf
Create Date: 2026-12-02 04:50:00

"""

revision = "0015_merge"
down_revision = ("0014_merge", "0010_perf")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
