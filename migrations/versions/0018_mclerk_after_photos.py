"""Photos "danach": the picture of the repaired spot a clerk adds when closing a report.

Revision ID: 0018_mclerk
Revises: 0016_quota
Create Date: 2026-12-02 06:51:33.301255

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_mclerk'
down_revision = '0016_quota'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_after_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('status_change_id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('file_name', sa.String(length=80), nullable=False),
    sa.Column('thumb_name', sa.String(length=80), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_report_after_photo_report_id_report'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_report_after_photo_staff_user_id_staff_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['status_change_id'], ['report_status_change.id'], name=op.f('fk_report_after_photo_status_change_id_report_status_change'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_after_photo')),
    sa.UniqueConstraint('file_name', name=op.f('uq_report_after_photo_file_name')),
    sa.UniqueConstraint('thumb_name', name=op.f('uq_report_after_photo_thumb_name'))
    )
    with op.batch_alter_table('report_after_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_after_photo_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_after_photo_status_change_id'), ['status_change_id'], unique=False)



def downgrade():
    with op.batch_alter_table('report_after_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_after_photo_status_change_id'))
        batch_op.drop_index(batch_op.f('ix_report_after_photo_report_id'))

    op.drop_table('report_after_photo')
