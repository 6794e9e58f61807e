"""How long a desk tablet keeps the offline roster, set per campaign (issue 20): empty means the
DESK_OFFLINE_KEEP_MINUTES setting.

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns') as batch_op:
        batch_op.add_column(sa.Column('desk_offline_keep_minutes', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('campaigns') as batch_op:
        batch_op.drop_column('desk_offline_keep_minutes')
