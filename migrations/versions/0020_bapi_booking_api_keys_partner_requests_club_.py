"""booking api keys, partner requests, club name consent

Partner systems' API keys (hashed, scoped to halls), the key behind a booking requested
through the API, and a club's consent to be named on the public plan.

Revision ID: 0020_bapi
Revises: 0016_quota
Create Date: 2026-12-02 06:49:21.552342

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_bapi'
down_revision = '0016_quota'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('booking_api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('resource_ids', sa.JSON(), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_booking_api_key_created_by_id_staff_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_api_key')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_booking_api_key_key_hash'))
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('api_key_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_booking_api_key_id'), ['api_key_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_booking_api_key_id_booking_api_key'), 'booking_api_key', ['api_key_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('club', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_public', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('club', schema=None) as batch_op:
        batch_op.drop_column('name_public')

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_booking_api_key_id_booking_api_key'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_booking_api_key_id'))
        batch_op.drop_column('api_key_id')

    op.drop_table('booking_api_key')
