"""The waiting list of a full session (issue 19): entries (the party, its place, its offer), the
seats an offer holds, and how long the campaign holds offered seats.

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('desk_session_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('include_staff', sa.Boolean(), nullable=False),
    sa.Column('dependent_ids', sa.JSON(), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('token_nonce', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('offer_slot_id', sa.Integer(), nullable=True),
    sa.Column('offered_at', sa.DateTime(), nullable=True),
    sa.Column('offer_expires_at', sa.DateTime(), nullable=True),
    sa.Column('offers', sa.Integer(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('reservation_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('waiting', 'offered', 'accepted', 'expired', 'withdrawn')", name=op.f('ck_waitlist_entries_status')),
    sa.CheckConstraint('seats > 0', name=op.f('ck_waitlist_entries_seats_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_waitlist_entries_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['desk_session_id'], ['desk_sessions.id'], name=op.f('fk_waitlist_entries_desk_session_id_desk_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offer_slot_id'], ['slots.id'], name=op.f('fk_waitlist_entries_offer_slot_id_slots')),
    sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'], name=op.f('fk_waitlist_entries_reservation_id_reservations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_waitlist_entries_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entries')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_waitlist_entries_token_hash'))
    )
    with op.batch_alter_table('waitlist_entries') as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_entries_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_waitlist_entries_offer_expiry', ['status', 'offer_expires_at'], unique=False)
        batch_op.create_index('ix_waitlist_entries_session_status', ['desk_session_id', 'status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_entries_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index('uq_waitlist_entries_open_staff_session', ['staff_id', 'desk_session_id'], unique=True, sqlite_where=sa.text("status IN ('waiting', 'offered')"), postgresql_where=sa.text("status IN ('waiting', 'offered')"))

    op.create_table('waitlist_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.CheckConstraint('seats > 0', name=op.f('ck_waitlist_holds_seats_positive')),
    sa.ForeignKeyConstraint(['entry_id'], ['waitlist_entries.id'], name=op.f('fk_waitlist_holds_entry_id_waitlist_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_waitlist_holds_slot_id_slots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_holds'))
    )
    with op.batch_alter_table('waitlist_holds') as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_holds_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_holds_slot_id'), ['slot_id'], unique=False)

    with op.batch_alter_table('campaigns') as batch_op:
        batch_op.add_column(sa.Column('waitlist_offer_minutes', sa.Integer(), server_default='120', nullable=False))



def downgrade():
    with op.batch_alter_table('campaigns') as batch_op:
        batch_op.drop_column('waitlist_offer_minutes')

    with op.batch_alter_table('waitlist_holds') as batch_op:
        batch_op.drop_index(batch_op.f('ix_waitlist_holds_slot_id'))
        batch_op.drop_index(batch_op.f('ix_waitlist_holds_entry_id'))

    op.drop_table('waitlist_holds')
    with op.batch_alter_table('waitlist_entries') as batch_op:
        batch_op.drop_index('uq_waitlist_entries_open_staff_session', sqlite_where=sa.text("status IN ('waiting', 'offered')"), postgresql_where=sa.text("status IN ('waiting', 'offered')"))
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_staff_id'))
        batch_op.drop_index('ix_waitlist_entries_session_status')
        batch_op.drop_index('ix_waitlist_entries_offer_expiry')
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_campaign_id'))

    op.drop_table('waitlist_entries')
