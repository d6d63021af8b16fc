"""merge clubs, workbench, open311, routing

Revision ID: 0005_merge
Revises: 0003_clubs, 0004_open311, 0004_routing, 0004_workbench
Create Date: 2026-11-23 11:45:56.893794

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_merge'
down_revision = ('0003_clubs', '0004_open311', '0004_routing', '0004_workbench')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
