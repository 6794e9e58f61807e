"""The application at the desk: the 申請書ID, identity documents, PIN form, old cards, legal
representative and age group of each checked-in person, and the delivery (mail or counter) they
decide; municipalities people are registered in and those a campaign's desks verify for mailing;
the section's changes to the list of identity documents.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'identity_documents',
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('document_group', sa.String(length=10), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.CheckConstraint("document_group IN ('A', 'B', 'notice')", name=op.f('ck_identity_documents_document_group')),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_identity_documents')),
    )
    op.create_table(
        'municipalities',
        sa.Column('code', sa.String(length=6), nullable=False),
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('is_home', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_municipalities')),
    )
    op.create_table(
        'campaign_mailing_municipalities',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('municipality_code', sa.String(length=6), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE',
                                name=op.f('fk_campaign_mailing_municipalities_campaign_id_campaigns')),
        sa.ForeignKeyConstraint(['municipality_code'], ['municipalities.code'], ondelete='CASCADE',
                                name=op.f('fk_campaign_mailing_municipalities_municipality_code_municipalities')),
        sa.PrimaryKeyConstraint('campaign_id', 'municipality_code', name=op.f('pk_campaign_mailing_municipalities')),
    )
    op.create_table(
        'applications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('check_in_id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.String(length=23), nullable=True),
        sa.Column('identity_documents', sa.JSON(), nullable=False),
        sa.Column('pin_entered', sa.Boolean(), nullable=False),
        sa.Column('pin_form', sa.Boolean(), nullable=False),
        sa.Column('surrendered', sa.JSON(), nullable=False),
        sa.Column('address_change_planned', sa.Boolean(), nullable=False),
        sa.Column('adult_ward', sa.Boolean(), nullable=False),
        sa.Column('age_group', sa.String(length=10), nullable=True),
        sa.Column('representative_name', sa.String(length=100), nullable=False),
        sa.Column('representative_relation', sa.String(length=30), nullable=False),
        sa.Column('representative_documents', sa.JSON(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.Column('submitted_by_id', sa.Integer(), nullable=True),
        sa.Column('delivery', sa.String(length=10), nullable=True),
        sa.Column('delivery_reasons', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("age_group IS NULL OR age_group IN ('under_1', 'under_15', 'adult')",
                           name=op.f('ck_applications_age_group')),
        sa.CheckConstraint("delivery IS NULL OR delivery IN ('mail', 'counter')", name=op.f('ck_applications_delivery')),
        sa.ForeignKeyConstraint(['check_in_id'], ['check_ins.id'], ondelete='CASCADE',
                                name=op.f('fk_applications_check_in_id_check_ins')),
        sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_applications_submitted_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
        sa.UniqueConstraint('application_id', name=op.f('uq_applications_application_id')),
        sa.UniqueConstraint('check_in_id', name=op.f('uq_applications_check_in_id')),
    )
    for table in ('staff', 'dependents'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('municipality_code', sa.String(length=6), nullable=True))
            batch.create_foreign_key(batch.f(f'fk_{table}_municipality_code_municipalities'), 'municipalities',
                                     ['municipality_code'], ['code'])
    with op.batch_alter_table('campaigns') as batch:
        batch.add_column(sa.Column('allows_single_photo_id_with_pin', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
    # Every application handed in before this revision was marked on its check-in only: give each
    # a record, submitted, with the delivery unknown (NULL).
    op.execute(
        "INSERT INTO applications (check_in_id, identity_documents, pin_entered, pin_form, surrendered, "
        "address_change_planned, adult_ward, representative_name, representative_relation, "
        "representative_documents, submitted_at, delivery_reasons, updated_at) "
        "SELECT id, '[]', false, false, '[]', false, false, '', '', '[]', checked_in_at, '[]', checked_in_at "
        "FROM check_ins WHERE is_application_submitted"
    )


def downgrade():
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('allows_single_photo_id_with_pin')
    for table in ('dependents', 'staff'):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(batch.f(f'fk_{table}_municipality_code_municipalities'), type_='foreignkey')
            batch.drop_column('municipality_code')
    op.drop_table('applications')
    op.drop_table('campaign_mailing_municipalities')
    op.drop_table('municipalities')
    op.drop_table('identity_documents')
