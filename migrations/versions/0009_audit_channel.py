"""Audit events name the channel an act came through (page, api, cli, system): one service per
act writes the same event whichever way it was reached, and the channel tells them apart.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events') as batch:
        batch.add_column(sa.Column('channel', sa.String(length=10), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('audit_events') as batch:
        batch.drop_column('channel')
