"""Parties: each person of a reservation sits in a slot of their own (a family larger than a
slot's free seats continues in the next slots), and dependents have an optional birth date
(a child under 15 applies with a legal representative; a baby under 1 needs no photo).

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reservation_people') as batch:
        batch.add_column(sa.Column('slot_id', sa.Integer(), nullable=True))
    # Every reservation so far sat in one slot.
    op.execute(
        "UPDATE reservation_people SET slot_id = "
        "(SELECT slot_id FROM reservations WHERE reservations.id = reservation_people.reservation_id)"
    )
    with op.batch_alter_table('reservation_people') as batch:
        batch.alter_column('slot_id', existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(batch.f('fk_reservation_people_slot_id_slots'), 'slots', ['slot_id'], ['id'])
        batch.create_index(batch.f('ix_reservation_people_slot_id'), ['slot_id'], unique=False)
    with op.batch_alter_table('dependents') as batch:
        batch.add_column(sa.Column('birth_date', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('dependents') as batch:
        batch.drop_column('birth_date')
    with op.batch_alter_table('reservation_people') as batch:
        batch.drop_index(batch.f('ix_reservation_people_slot_id'))
        batch.drop_constraint(batch.f('fk_reservation_people_slot_id_slots'), type_='foreignkey')
        batch.drop_column('slot_id')
