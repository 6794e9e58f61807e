"""Membership over time and frozen sent reports (issue 18, first half): staff and dependents get
the dates they joined and left, dependents the time their record was made, an uploaded staff list
keeps its staff numbers (to offer those missing from it as left), and the reports sent to the
prefecture are kept as sent.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff') as batch:
        batch.add_column(sa.Column('joined_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('left_on', sa.Date(), nullable=True))
    with op.batch_alter_table('dependents') as batch:
        batch.add_column(sa.Column('joined_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('left_on', sa.Date(), nullable=True))
        # Left empty for existing rows: they count from their staff member's record.
        batch.add_column(sa.Column('created_at', sa.DateTime(), nullable=True))
    op.create_table(
        'staff_import_numbers',
        sa.Column('batch_id', sa.String(length=43), nullable=False),
        sa.Column('numbers', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['staff_import_batches.id'],
                                name=op.f('fk_staff_import_numbers_batch_id_staff_import_batches'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('batch_id', name=op.f('pk_staff_import_numbers')),
    )
    op.create_table(
        'sent_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('days', sa.String(length=200), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('department', sa.String(length=100), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.Column('sent_by_id', sa.Integer(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_sent_reports_sent_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_reports')),
    )
    op.create_index(op.f('ix_sent_reports_days'), 'sent_reports', ['days'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_sent_reports_days'), table_name='sent_reports')
    op.drop_table('sent_reports')
    op.drop_table('staff_import_numbers')
    with op.batch_alter_table('dependents') as batch:
        batch.drop_column('created_at')
        batch.drop_column('left_on')
        batch.drop_column('joined_on')
    with op.batch_alter_table('staff') as batch:
        batch.drop_column('left_on')
        batch.drop_column('joined_on')
