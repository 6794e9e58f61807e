"""Staff imports as background jobs (issue 7): state, progress, heartbeat and error on the batch.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_import_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=10), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('total', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('applied', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('created_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('updated_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('unchanged_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('runner', sa.String(length=43), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('error_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('error_line', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('error_detail', sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_staff_import_batches_state'), "state IN ('pending', 'running', 'done', 'failed')")


def downgrade():
    with op.batch_alter_table('staff_import_batches', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_staff_import_batches_state'), type_='check')
        for column in ('error_detail', 'error_line', 'error_code', 'finished_at', 'started_at', 'heartbeat_at',
                       'runner', 'unchanged_count', 'updated_count', 'created_count', 'applied', 'total',
                       'state'):
            batch_op.drop_column(column)
