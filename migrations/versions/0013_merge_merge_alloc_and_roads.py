"""Merge the Saisonvergabe publishing work with outbox, alerts and roads.

Revision ID: 0013_merge
Revises: 0010_alloc, 0012_roads
Create Date: 2026-12-02 04:50:00

"""

revision = "0013_merge"
down_revision = ("0010_alloc", "0012_roads")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
