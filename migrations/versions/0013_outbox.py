"""The outbox of mail messages and the claimed runs of scheduled jobs (issue 13); the booker's
language on each reservation, each campaign's reminder time, a permanent refusal of a staff address.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('reservation_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'sent', 'failed', 'not_sent')", name=op.f('ck_outbox_messages_status')),
    sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'], name=op.f('fk_outbox_messages_reservation_id_reservations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_outbox_messages_staff_id_staff'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outbox_messages_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_messages_dedupe_key'))
    )
    with op.batch_alter_table('outbox_messages') as batch:
        batch.create_index('ix_outbox_messages_due', ['status', 'next_attempt_at'], unique=False)
        batch.create_index(batch.f('ix_outbox_messages_reservation_id'), ['reservation_id'], unique=False)
        batch.create_index(batch.f('ix_outbox_messages_staff_id'), ['staff_id'], unique=False)

    op.create_table('job_runs',
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('job', 'due_at', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('reservations') as batch:
        batch.add_column(sa.Column('locale', sa.String(length=8), nullable=False, server_default='ja'))
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('reminder_minutes_before', sa.Integer(), nullable=True))
    with op.batch_alter_table('staff') as batch:
        batch.add_column(sa.Column('email_failure', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('email_confirmed_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('pending_email', sa.String(length=254), nullable=False, server_default=''))
        batch.add_column(sa.Column('pending_email_nonce', sa.String(length=32), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('staff') as batch:
        batch.drop_column('pending_email_nonce')
        batch.drop_column('pending_email')
        batch.drop_column('email_confirmed_at')
        batch.drop_column('email_failure')
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('reminder_minutes_before')
    with op.batch_alter_table('reservations') as batch:
        batch.drop_column('locale')
    op.drop_table('job_runs')
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_index('ix_outbox_messages_staff_id')
        batch.drop_index('ix_outbox_messages_reservation_id')
        batch.drop_index('ix_outbox_messages_due')
    op.drop_table('outbox_messages')
