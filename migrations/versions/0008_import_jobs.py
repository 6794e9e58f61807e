"""Staff imports as background jobs (issue 7): state, progress, heartbeat and error on the batch;
the uploaded rows move to their own table (SQLite rewrites a whole row on every UPDATE, and the job
updates the batch at every chunk).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


#: The rows wait here while staff_import_batches is altered: on SQLite the batch mode rebuilds
#: that table, and dropping the old one (foreign keys on) would cascade to staff_import_rows.
COPY = '_staff_import_rows_copy'
JOB_COLUMNS = ('state', 'total', 'applied', 'created_count', 'updated_count', 'unchanged_count', 'runner',
               'heartbeat_at', 'started_at', 'finished_at', 'error_code', 'error_line', 'error_detail')


def _copy_table():
    op.create_table(COPY, sa.Column('batch_id', sa.String(length=43), nullable=False),
                    sa.Column('rows', sa.JSON(), nullable=True))


def upgrade():
    _copy_table()
    op.execute(f'INSERT INTO {COPY} (batch_id, "rows") SELECT id, "rows" FROM staff_import_batches')
    with op.batch_alter_table('staff_import_batches', schema=None) as batch_op:
        batch_op.drop_column('rows')
        batch_op.add_column(sa.Column('state', sa.String(length=10), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('total', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('applied', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('created_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('updated_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('unchanged_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('runner', sa.String(length=43), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('error_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('error_line', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('error_detail', sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_staff_import_batches_state'), "state IN ('pending', 'running', 'done', 'failed')")
    op.create_table(
        'staff_import_rows',
        sa.Column('batch_id', sa.String(length=43), nullable=False),
        sa.Column('rows', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['staff_import_batches.id'],
                                name=op.f('fk_staff_import_rows_batch_id_staff_import_batches'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('batch_id', name=op.f('pk_staff_import_rows')),
    )
    op.execute(f'INSERT INTO staff_import_rows (batch_id, "rows") SELECT batch_id, "rows" FROM {COPY}')
    op.drop_table(COPY)


def downgrade():
    _copy_table()
    op.execute(f'INSERT INTO {COPY} (batch_id, "rows") SELECT batch_id, "rows" FROM staff_import_rows')
    op.drop_table('staff_import_rows')
    with op.batch_alter_table('staff_import_batches', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_staff_import_batches_state'), type_='check')
        for column in reversed(JOB_COLUMNS):
            batch_op.drop_column(column)
        batch_op.add_column(sa.Column('rows', sa.JSON(), nullable=True))
    op.execute(f'UPDATE staff_import_batches SET "rows" = (SELECT c."rows" FROM {COPY} c '
               'WHERE c.batch_id = staff_import_batches.id)')
    # An import that had finished has no rows left: an empty list, as 0007 expects something.
    op.execute("""UPDATE staff_import_batches SET "rows" = '[]' WHERE "rows" IS NULL""")
    with op.batch_alter_table('staff_import_batches', schema=None) as batch_op:
        batch_op.alter_column('rows', existing_type=sa.JSON(), nullable=False)
    op.drop_table(COPY)
