"""items dropped from a meeting's agenda

The committee's officer may drop an open item from a meeting's agenda (`/meeting drop rec-3
[reason]`): it is not asked for an update for that meeting nor chased, and the agenda shows it as
"dropped from this agenda". Undoing it (`/meeting undrop rec-3`) ends the row (undone_at); rows
are never deleted.

An owner outside Slack (a role holder known only by email) is asked for updates by email: their
update request keeps the address, and the sha256 of the personal link's token (the token itself
only travels in the email) with when the link stops working.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 02:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'agenda_drops',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('dropped_by', sa.String(length=64), nullable=False),
        sa.Column('dropped_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('undone_by', sa.String(length=64), nullable=True),
        sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id']),
        sa.ForeignKeyConstraint(['item_id'], ['items.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_agenda_drop_meeting', 'agenda_drops', ['meeting_id', 'undone_at'])
    with op.batch_alter_table('update_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('token_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_update_request_token', ['token_hash'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('update_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_update_request_token')
        batch_op.drop_column('token_expires_at')
        batch_op.drop_column('token_hash')
        batch_op.drop_column('email')
    op.drop_index('ix_agenda_drop_meeting', table_name='agenda_drops')
    op.drop_table('agenda_drops')
