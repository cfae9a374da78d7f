"""update requests: updates asked of owners before a meeting, and their review

Before each meeting the owners of the committee's open items are asked for an update (one
request per meeting and owner); what they send is a position in review_state 'submitted' until
the committee's officer or chair accepts or returns it. Existing positions are 'accepted'.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 00:25:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'update_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('committee_id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('chased_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['committee_id'], ['committees.id']),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('meeting_id', 'user_id', name='uq_update_request'),
    )
    columns = [
        sa.Column('review_state', sa.String(length=16), nullable=False, server_default='accepted'),
        sa.Column('proposed', sa.JSON(), nullable=True),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_by', sa.String(length=32), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('review_note', sa.Text(), nullable=True),
    ]
    if op.get_bind().dialect.name == "sqlite":
        # Plain ADD COLUMN (the foreign key inline): a batch would rebuild `positions` and so
        # drop the full-text search triggers 0010 put on it.
        for column in columns:
            if column.name == 'request_id':
                op.execute("ALTER TABLE positions ADD COLUMN request_id INTEGER "
                           "CONSTRAINT fk_position_request REFERENCES update_requests (id)")
            else:
                op.add_column('positions', column)
        op.create_index('ix_position_request', 'positions', ['request_id'], unique=False)
        return
    with op.batch_alter_table('positions', schema=None) as batch_op:
        for column in columns:
            batch_op.add_column(column)
        batch_op.create_foreign_key('fk_position_request', 'update_requests', ['request_id'], ['id'])
        batch_op.create_index('ix_position_request', ['request_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.drop_index('ix_position_request')
        batch_op.drop_constraint('fk_position_request', type_='foreignkey')
        for name in ('review_note', 'reviewed_at', 'reviewed_by', 'request_id', 'proposed', 'review_state'):
            batch_op.drop_column(name)
    op.drop_table('update_requests')
