"""merge allocation, routing and workbench

Revision ID: 0008_merge
Revises: 0007_allocation, 0007_routing, 0007_workbench
Create Date: 2026-12-01 00:57:51.099186

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_merge'
down_revision = ('0007_allocation', '0007_routing', '0007_workbench')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
