"""Campaigns: the section's contact phone number, told to bookers once booking has closed, and the
grace after a slot's end before the desk may mark its bookings as no-shows (issue 16 items 2, 3).

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('contact_phone', sa.String(length=30), nullable=False, server_default=''))
        batch.add_column(sa.Column('no_show_grace_minutes', sa.Integer(), nullable=False, server_default='30'))


def downgrade():
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('no_show_grace_minutes')
        batch.drop_column('contact_phone')
