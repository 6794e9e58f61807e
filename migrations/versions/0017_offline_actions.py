"""The desk's queued actions, applied once each by the id the device gave them (issue 20).

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'desk_actions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.String(length=64), nullable=False),
        sa.Column('device_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('reservation_id', sa.Integer(), nullable=True),
        sa.Column('made_at', sa.DateTime(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('answer', sa.JSON(), nullable=False),
        sa.CheckConstraint("kind IN ('check_in', 'photo', 'application')", name=op.f('ck_desk_actions_kind')),
        sa.CheckConstraint("outcome IN ('applied', 'note', 'conflict')", name=op.f('ck_desk_actions_outcome')),
        sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'],
                                name=op.f('fk_desk_actions_reservation_id_reservations'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_desk_actions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_actions')),
        sa.UniqueConstraint('action_id', name=op.f('uq_desk_actions_action_id')),
    )
    op.create_index(op.f('ix_desk_actions_device_id'), 'desk_actions', ['device_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_desk_actions_device_id'), table_name='desk_actions')
    op.drop_table('desk_actions')
