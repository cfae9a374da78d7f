"""indexes for every list query

Each serves a query that tests/test_query_plans.py found reading a whole table (or a whole
workspace's items):

- ix_item_status_due: the scheduled reminders and officers' summaries (open items due by a
  date, across every workspace; ix_item_team_status_due starts with team_id, so can't serve it)
- ix_item_meeting: a meeting's actions arising (/meeting, its digest, the decision letter)
- ix_role_committee: a committee's chair and officer roles (rights, officers' reminders,
  letter recipients, the chair who is told about unacknowledged letters)
- ix_review_agreed: the scheduled executive-response flags (reviews by agreed date)
- ix_contact_agency: an agency's contacts (Agency.contacts, loaded for /scrutiny agencies and
  every letter)
- ix_letter_unchased: the scheduled chase (letters not yet chased, sent before a date)
- ix_recipient_outbox_key: noting a letter's delivery by its outbox key

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:00:00.000000
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_item_status_due', ['status', 'due'], unique=False)
        batch_op.create_index('ix_item_meeting', ['meeting_id'], unique=False)

    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.create_index('ix_role_committee', ['committee_id', 'kind'], unique=False)

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index('ix_review_agreed', ['agreed_on'], unique=False)

    with op.batch_alter_table('agency_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contact_agency', ['agency_id'], unique=False)

    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.create_index('ix_letter_unchased', ['chased_at', 'sent_at'], unique=False)

    with op.batch_alter_table('letter_recipients', schema=None) as batch_op:
        batch_op.create_index('ix_recipient_outbox_key', ['outbox_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('letter_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_recipient_outbox_key')

    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.drop_index('ix_letter_unchased')

    with op.batch_alter_table('agency_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_agency')

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_review_agreed')

    with op.batch_alter_table('roles', schema=None) as batch_op:
        batch_op.drop_index('ix_role_committee')

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_item_meeting')
        batch_op.drop_index('ix_item_status_due')
