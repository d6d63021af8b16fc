"""merge mangel and buchung

Revision ID: 0003_merge
Revises: 0002_buchung, 0002_mangel
Create Date: 2026-11-23 10:59:32.136795

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_merge'
down_revision = ('0002_buchung', '0002_mangel')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
