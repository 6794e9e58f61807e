"""The ``hq`` role: HQ general affairs sees every unit's reports and rosters, read-only, no photos
(DESIGN.md rule 8; issue 16 item 7). Only the check constraint on users.role changes.

Revision ID: 0014
Revises: 0013
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite cannot alter a constraint in place: batch mode copies the table with the new one.
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(op.f('ck_users_role'), type_='check')
        batch.create_check_constraint(op.f('ck_users_role'), "role IN ('admin', 'chief', 'clerk', 'hq')")


def downgrade():
    # The old constraint has no place for an hq account: it is kept (audit events name it) but
    # disabled, as a clerk, with its API tokens gone, so that it opens nothing it could not before.
    op.execute("DELETE FROM api_tokens WHERE user_id IN (SELECT id FROM users WHERE role = 'hq')")
    op.execute("UPDATE users SET role = 'clerk', is_active = false WHERE role = 'hq'")
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(op.f('ck_users_role'), type_='check')
        batch.create_check_constraint(op.f('ck_users_role'), "role IN ('admin', 'chief', 'clerk')")
