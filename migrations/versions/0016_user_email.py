"""Office users: an e-mail address, where a chief receives the digest of bookings waiting for their
approval (issue 13).

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('email', sa.String(length=254), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('email')
