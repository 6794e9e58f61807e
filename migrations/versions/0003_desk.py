"""The desk: check-in, photos, walk-ins (issue 4).

Adds the admin's photo retention setting to campaigns (rule 7: photos are
deleted this many days after their session). Check-ins, photos and the
walk_in channel already exist in 0001.

Plain ADD/DROP COLUMN rather than a batch table rebuild: on SQLite a rebuild
drops and recreates ``campaigns``, and with foreign keys on that would cascade
into campaign_units. SQLite has had ALTER TABLE DROP COLUMN since 3.35.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'campaigns',
        sa.Column('photo_retention_days', sa.Integer(), server_default='30', nullable=False),
    )


def downgrade():
    op.drop_column('campaigns', 'photo_retention_days')
