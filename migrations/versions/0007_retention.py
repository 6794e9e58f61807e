"""Personal-data retention (issue 7): per-campaign setting and the counts left after a purge.

Revision ID: 0007
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'campaign_retention',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('days', sa.Integer(), nullable=False),
        sa.Column('purged_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('days > 0', name=op.f('ck_campaign_retention_days_positive')),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_campaign_retention_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_campaign_retention')),
    )
    op.create_table(
        'roster_tallies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slot_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('reservations', sa.Integer(), nullable=False),
        sa.Column('people', sa.Integer(), nullable=False),
        sa.Column('dependents', sa.Integer(), nullable=False),
        sa.Column('checked_in_people', sa.Integer(), nullable=False),
        sa.Column('applications_submitted', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=12), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('booked', 'cancelled', 'checked_in', 'no_show')",
                           name=op.f('ck_roster_tallies_status')),
        sa.ForeignKeyConstraint(['slot_id'], ['slots.id'],
                                name=op.f('fk_roster_tallies_slot_id_slots'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
                                name=op.f('fk_roster_tallies_unit_id_units'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_tallies')),
    )
    with op.batch_alter_table('roster_tallies', schema=None) as batch_op:
        batch_op.create_index('ix_roster_tallies_slot_status', ['slot_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_roster_tallies_unit_id'), ['unit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('roster_tallies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_tallies_unit_id'))
        batch_op.drop_index('ix_roster_tallies_slot_status')
    op.drop_table('roster_tallies')
    op.drop_table('campaign_retention')
