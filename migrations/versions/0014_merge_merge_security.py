"""Merge the security hardening (session versions) into the main line.

Revision ID: 0014_merge
Revises: 0013_merge, 0010_security
Create Date: 2026-12-02 04:50:00

"""

revision = "0014_merge"
down_revision = ("0013_merge", "0010_security")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
