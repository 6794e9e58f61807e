"""The card's life after the application: its stage (mailed, ready at the counter), the day a mailed
card came back to the city, and the expiry dates of the card and of its certificates (issue 18).

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

STAGE_CHECK = "card_stage IS NULL OR card_stage IN ('none', 'applied', 'mailed', 'at_counter', 'received')"


def upgrade():
    for table in ('staff', 'dependents'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('card_stage', sa.String(length=12), nullable=True))
            batch.add_column(sa.Column('card_stage_on', sa.Date(), nullable=True))
            batch.add_column(sa.Column('card_returned_on', sa.Date(), nullable=True))
            batch.add_column(sa.Column('card_expires_on', sa.Date(), nullable=True))
            batch.add_column(sa.Column('certificates_expire_on', sa.Date(), nullable=True))
            batch.create_check_constraint(op.f(f'ck_{table}_card_stage'), STAGE_CHECK)
        # Expiring cards are counted by date across everyone (reports, the chart).
        op.create_index(f'ix_{table}_card_expires_on', table, ['card_expires_on'])


def downgrade():
    for table in ('staff', 'dependents'):
        op.drop_index(f'ix_{table}_card_expires_on', table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f'ck_{table}_card_stage'), type_='check')
            batch.drop_column('certificates_expire_on')
            batch.drop_column('card_expires_on')
            batch.drop_column('card_returned_on')
            batch.drop_column('card_stage_on')
            batch.drop_column('card_stage')
