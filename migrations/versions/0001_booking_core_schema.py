"""Booking core schema: organisation, campaigns, slots, reservations, desk records, audit.

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 15:35:41.891709

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('booking_opens_at', sa.DateTime(), nullable=False),
    sa.Column('booking_closes_at', sa.DateTime(), nullable=False),
    sa.Column('cutoff_minutes', sa.Integer(), nullable=False),
    sa.Column('what_to_bring', sa.Text(), nullable=False),
    sa.Column('is_published', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], name=op.f('fk_units_parent_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('code', name=op.f('uq_units_code'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_parent_id'), ['parent_id'], unique=False)

    op.create_table('campaign_units',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_units_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_campaign_units_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'unit_id', name=op.f('pk_campaign_units'))
    )
    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_number', sa.String(length=32), nullable=False),
    sa.Column('family_name', sa.String(length=50), nullable=False),
    sa.Column('given_name', sa.String(length=50), nullable=False),
    sa.Column('family_name_kana', sa.String(length=50), nullable=False),
    sa.Column('given_name_kana', sa.String(length=50), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('crew', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('card_status', sa.String(length=10), nullable=False),
    sa.Column('card_status_on', sa.Date(), nullable=True),
    sa.Column('invitation_nonce', sa.String(length=32), nullable=False),
    sa.Column('invitation_link_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("card_status IN ('none', 'applied', 'received')", name=op.f('ck_staff_card_status')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_staff_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('invitation_link_hash', name=op.f('uq_staff_invitation_link_hash')),
    sa.UniqueConstraint('staff_number', name=op.f('uq_staff_staff_number'))
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_unit_id'), ['unit_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'chief', 'clerk')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_users_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('venues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_venues_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_venues'))
    )
    with op.batch_alter_table('venues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_venues_unit_id'), ['unit_id'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('target_type', sa.String(length=50), nullable=False),
    sa.Column('target_id', sa.String(length=50), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_user_id'), ['user_id'], unique=False)

    op.create_table('dependents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('family_name', sa.String(length=50), nullable=False),
    sa.Column('given_name', sa.String(length=50), nullable=False),
    sa.Column('family_name_kana', sa.String(length=50), nullable=False),
    sa.Column('given_name_kana', sa.String(length=50), nullable=False),
    sa.Column('relation', sa.String(length=30), nullable=False),
    sa.Column('card_status', sa.String(length=10), nullable=False),
    sa.Column('card_status_on', sa.Date(), nullable=True),
    sa.CheckConstraint("card_status IN ('none', 'applied', 'received')", name=op.f('ck_dependents_card_status')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_dependents_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dependents'))
    )
    with op.batch_alter_table('dependents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dependents_staff_id'), ['staff_id'], unique=False)

    op.create_table('desk_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('desks', sa.Integer(), nullable=False),
    sa.Column('is_cancelled', sa.Boolean(), nullable=False),
    sa.CheckConstraint('desks > 0', name=op.f('ck_desk_sessions_desks_positive')),
    sa.CheckConstraint('slot_minutes > 0', name=op.f('ck_desk_sessions_slot_minutes_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_desk_sessions_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['venue_id'], ['venues.id'], name=op.f('fk_desk_sessions_venue_id_venues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_sessions'))
    )
    with op.batch_alter_table('desk_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_desk_sessions_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_desk_sessions_venue_id'), ['venue_id'], unique=False)

    op.create_table('slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('desk_session_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('seats_taken', sa.Integer(), nullable=False),
    sa.CheckConstraint('seats_taken <= capacity', name=op.f('ck_slots_seats_within_capacity')),
    sa.CheckConstraint('seats_taken >= 0', name=op.f('ck_slots_seats_not_negative')),
    sa.ForeignKeyConstraint(['desk_session_id'], ['desk_sessions.id'], name=op.f('fk_slots_desk_session_id_desk_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slots'))
    )
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.create_index('ix_slots_session_start', ['desk_session_id', 'starts_at'], unique=False)

    op.create_table('reservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('token_nonce', sa.String(length=32), nullable=False),
    sa.Column('manage_token_hash', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('booked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("channel IN ('web', 'phone', 'walk_in')", name=op.f('ck_reservations_channel')),
    sa.CheckConstraint("status IN ('booked', 'cancelled', 'checked_in', 'no_show')", name=op.f('ck_reservations_status')),
    sa.CheckConstraint('seats > 0', name=op.f('ck_reservations_seats_positive')),
    sa.ForeignKeyConstraint(['booked_by_id'], ['users.id'], name=op.f('fk_reservations_booked_by_id_users')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_reservations_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_reservations_slot_id_slots')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_reservations_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations')),
    sa.UniqueConstraint('code', name=op.f('uq_reservations_code')),
    sa.UniqueConstraint('manage_token_hash', name=op.f('uq_reservations_manage_token_hash'))
    )
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reservations_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_reservations_slot_status', ['slot_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_reservations_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index('uq_reservations_active_staff_campaign', ['staff_id', 'campaign_id'], unique=True, sqlite_where=sa.text("status IN ('booked', 'checked_in')"), postgresql_where=sa.text("status IN ('booked', 'checked_in')"))

    op.create_table('reservation_people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reservation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('dependent_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(kind = 'staff' AND dependent_id IS NULL) OR (kind = 'dependent' AND dependent_id IS NOT NULL)", name=op.f('ck_reservation_people_kind_matches_dependent')),
    sa.CheckConstraint("kind IN ('staff', 'dependent')", name=op.f('ck_reservation_people_kind')),
    sa.ForeignKeyConstraint(['dependent_id'], ['dependents.id'], name=op.f('fk_reservation_people_dependent_id_dependents')),
    sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'], name=op.f('fk_reservation_people_reservation_id_reservations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservation_people'))
    )
    with op.batch_alter_table('reservation_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reservation_people_reservation_id'), ['reservation_id'], unique=False)

    op.create_table('check_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reservation_person_id', sa.Integer(), nullable=False),
    sa.Column('clerk_id', sa.Integer(), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(), nullable=False),
    sa.Column('is_application_submitted', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['clerk_id'], ['users.id'], name=op.f('fk_check_ins_clerk_id_users')),
    sa.ForeignKeyConstraint(['reservation_person_id'], ['reservation_people.id'], name=op.f('fk_check_ins_reservation_person_id_reservation_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_ins')),
    sa.UniqueConstraint('reservation_person_id', name=op.f('uq_check_ins_reservation_person_id'))
    )
    op.create_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('check_in_id', sa.Integer(), nullable=False),
    sa.Column('storage_name', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(), nullable=False),
    sa.Column('delete_after', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['check_in_id'], ['check_ins.id'], name=op.f('fk_photos_check_in_id_check_ins'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
    sa.UniqueConstraint('check_in_id', name=op.f('uq_photos_check_in_id')),
    sa.UniqueConstraint('storage_name', name=op.f('uq_photos_storage_name'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_delete_after'), ['delete_after'], unique=False)

    


def downgrade():
    
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_delete_after'))

    op.drop_table('photos')
    op.drop_table('check_ins')
    with op.batch_alter_table('reservation_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reservation_people_reservation_id'))

    op.drop_table('reservation_people')
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_index('uq_reservations_active_staff_campaign', sqlite_where=sa.text("status IN ('booked', 'checked_in')"), postgresql_where=sa.text("status IN ('booked', 'checked_in')"))
        batch_op.drop_index(batch_op.f('ix_reservations_staff_id'))
        batch_op.drop_index('ix_reservations_slot_status')
        batch_op.drop_index(batch_op.f('ix_reservations_campaign_id'))

    op.drop_table('reservations')
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_index('ix_slots_session_start')

    op.drop_table('slots')
    with op.batch_alter_table('desk_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_desk_sessions_venue_id'))
        batch_op.drop_index(batch_op.f('ix_desk_sessions_campaign_id'))

    op.drop_table('desk_sessions')
    with op.batch_alter_table('dependents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dependents_staff_id'))

    op.drop_table('dependents')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('venues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_venues_unit_id'))

    op.drop_table('venues')
    op.drop_table('users')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_unit_id'))

    op.drop_table('staff')
    op.drop_table('campaign_units')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_parent_id'))

    op.drop_table('units')
    op.drop_table('campaigns')
    
