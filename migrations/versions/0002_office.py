"""Office pages: the kana search key on staff, pending staff imports (issue 3).

Revision ID: 0002
Revises: 0001
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}


def _kana_key(text):
    # A frozen copy of booking.models.office.kana_key: migrations must not change
    # when the application code does.
    folded = unicodedata.normalize("NFKC", text or "").translate(_HIRAGANA_TO_KATAKANA)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "・･")[:100]


def upgrade():
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_kana', sa.String(length=100), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_staff_search_kana'), ['search_kana'], unique=False)

    # Existing staff get their key now; afterwards a mapper listener keeps it.
    connection = op.get_bind()
    staff = sa.table(
        'staff',
        sa.column('id', sa.Integer),
        sa.column('family_name_kana', sa.String),
        sa.column('given_name_kana', sa.String),
        sa.column('search_kana', sa.String),
    )
    rows = connection.execute(sa.select(staff.c.id, staff.c.family_name_kana, staff.c.given_name_kana)).all()
    if rows:
        connection.execute(
            staff.update().where(staff.c.id == sa.bindparam('staff_id')).values(search_kana=sa.bindparam('key')),
            [{'staff_id': r.id, 'key': _kana_key(f"{r.family_name_kana}{r.given_name_kana}")} for r in rows],
        )

    op.create_table('staff_import_batches',
    sa.Column('id', sa.String(length=43), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_digest', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('plan_digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staff_import_batches_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_import_batches'))
    )
    with op.batch_alter_table('staff_import_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_import_batches_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_import_batches_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_import_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_import_batches_user_id'))
        batch_op.drop_index(batch_op.f('ix_staff_import_batches_created_at'))

    op.drop_table('staff_import_batches')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_search_kana'))
        batch_op.drop_column('search_kana')
