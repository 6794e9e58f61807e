"""Duty calendars for shift-aware planning (issue 8).

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'duty_calendars',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('system', sa.String(length=12), nullable=False),
        sa.Column('shift_start', sa.Time(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("system IN ('two_crew', 'three_crew', 'day_only')",
                           name=op.f('ck_duty_calendars_system')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
                                name=op.f('fk_duty_calendars_unit_id_units'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_calendars')),
        sa.UniqueConstraint('unit_id', name=op.f('uq_duty_calendars_unit_id')),
    )
    op.create_table(
        'duty_crews',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('calendar_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.Column('anchor_date', sa.Date(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['calendar_id'], ['duty_calendars.id'],
                                name=op.f('fk_duty_crews_calendar_id_duty_calendars'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_crews')),
        sa.UniqueConstraint('calendar_id', 'name', name=op.f('uq_duty_crews_calendar_id')),
    )
    with op.batch_alter_table('duty_crews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duty_crews_calendar_id'), ['calendar_id'], unique=False)

    op.create_table(
        'duty_approvals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reservation_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'declined', 'withdrawn')",
                           name=op.f('ck_duty_approvals_status')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_duty_approvals_decided_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'],
                                name=op.f('fk_duty_approvals_reservation_id_reservations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_duty_approvals_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_approvals')),
        sa.UniqueConstraint('reservation_id', name=op.f('uq_duty_approvals_reservation_id')),
    )
    with op.batch_alter_table('duty_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duty_approvals_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_duty_approvals_unit_id'), ['unit_id'], unique=False)

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_duty_approval', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('requires_duty_approval')
    with op.batch_alter_table('duty_approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duty_approvals_unit_id'))
        batch_op.drop_index(batch_op.f('ix_duty_approvals_status'))
    op.drop_table('duty_approvals')
    with op.batch_alter_table('duty_crews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duty_crews_calendar_id'))
    op.drop_table('duty_crews')
    op.drop_table('duty_calendars')
