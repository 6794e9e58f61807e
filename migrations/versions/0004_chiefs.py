"""Chiefs and HQ: card status history, reasons, snapshots (issue 5).

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'card_status_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('dependent_id', sa.Integer(), nullable=True),
        sa.Column('from_status', sa.String(length=10), nullable=False),
        sa.Column('to_status', sa.String(length=10), nullable=False),
        sa.Column('effective_on', sa.Date(), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("from_status IN ('none', 'applied', 'received')",
                           name=op.f('ck_card_status_events_from_status')),
        sa.CheckConstraint("source IN ('import', 'desk', 'edit')", name=op.f('ck_card_status_events_source')),
        sa.CheckConstraint("to_status IN ('none', 'applied', 'received')",
                           name=op.f('ck_card_status_events_to_status')),
        sa.CheckConstraint('(staff_id IS NOT NULL AND dependent_id IS NULL) OR '
                           '(staff_id IS NULL AND dependent_id IS NOT NULL)',
                           name=op.f('ck_card_status_events_one_person')),
        sa.ForeignKeyConstraint(['dependent_id'], ['dependents.id'],
                                name=op.f('fk_card_status_events_dependent_id_dependents'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'],
                                name=op.f('fk_card_status_events_staff_id_staff'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_card_status_events_user_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_card_status_events')),
    )
    with op.batch_alter_table('card_status_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_status_events_dependent_id'), ['dependent_id'], unique=False)
        batch_op.create_index('ix_card_status_events_effective_on', ['effective_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_status_events_staff_id'), ['staff_id'], unique=False)

    op.create_table(
        'non_application_reasons',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("reason IN ('considering', 'not_needed', 'loss_theft', 'no_time', "
                           "'photo_documents', 'other')", name=op.f('ck_non_application_reasons_reason')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_non_application_reasons_recorded_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'],
                                name=op.f('fk_non_application_reasons_staff_id_staff'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_non_application_reasons')),
        sa.UniqueConstraint('staff_id', name=op.f('uq_non_application_reasons_staff_id')),
    )

    op.create_table(
        'status_snapshots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('staff', sa.Integer(), nullable=False),
        sa.Column('staff_applied', sa.Integer(), nullable=False),
        sa.Column('staff_received', sa.Integer(), nullable=False),
        sa.Column('dependents', sa.Integer(), nullable=False),
        sa.Column('dependents_applied', sa.Integer(), nullable=False),
        sa.Column('dependents_received', sa.Integer(), nullable=False),
        sa.Column('taken_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
                                name=op.f('fk_status_snapshots_unit_id_units'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_status_snapshots')),
        sa.UniqueConstraint('month', 'unit_id', name=op.f('uq_status_snapshots_month')),
    )
    with op.batch_alter_table('status_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_snapshots_month'), ['month'], unique=False)

    op.create_table(
        'calendar_feeds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('nonce', sa.String(length=32), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_calendar_feeds_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feeds')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feeds_token_hash')),
        sa.UniqueConstraint('user_id', name=op.f('uq_calendar_feeds_user_id')),
    )


def downgrade():
    op.drop_table('calendar_feeds')
    with op.batch_alter_table('status_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_snapshots_month'))
    op.drop_table('status_snapshots')
    op.drop_table('non_application_reasons')
    with op.batch_alter_table('card_status_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_status_events_staff_id'))
        batch_op.drop_index('ix_card_status_events_effective_on')
        batch_op.drop_index(batch_op.f('ix_card_status_events_dependent_id'))
    op.drop_table('card_status_events')
