"""Merge the citizen side, workbench, booking API, fees and member turns into one line.

Revision ID: 0025_merge
Revises: 0017_mcitizen, 0018_mclerk, 0020_bapi, 0021_fees, 0022_alloc
Create Date: 2026-12-02 08:05:00

"""

revision = "0025_merge"
down_revision = ("0017_mcitizen", "0018_mclerk", "0020_bapi", "0021_fees", "0022_alloc")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
