"""carry forward: paused and deferred items, watchers, escalations

items.paused_until and items.pause_reason (a paused or deferred item is not overdue and not
chased until it resumes); watchers (`/watch`: told of an item's changes without owning it);
escalations (an item overdue by more than N working days, escalated once per due date).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 00:25:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('pause_reason', sa.Text(), nullable=True))
    op.create_table(
        'watchers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['item_id'], ['items.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_watcher_item', 'watchers', ['item_id', 'ended_at'])
    op.create_index('ix_watcher_user', 'watchers', ['team_id', 'user_id', 'ended_at'])
    op.create_table(
        'escalations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('committee_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('due', sa.Date(), nullable=False),
        sa.Column('escalated_on', sa.Date(), nullable=False),
        sa.Column('days_late', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['committee_id'], ['committees.id']),
        sa.ForeignKeyConstraint(['item_id'], ['items.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('item_id', 'due', name='uq_escalation_item_due'),
    )
    op.create_index('ix_escalation_committee', 'escalations', ['committee_id', 'escalated_on'])


def downgrade() -> None:
    op.drop_index('ix_escalation_committee', table_name='escalations')
    op.drop_table('escalations')
    op.drop_index('ix_watcher_user', table_name='watchers')
    op.drop_index('ix_watcher_item', table_name='watchers')
    op.drop_table('watchers')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('pause_reason')
        batch_op.drop_column('paused_until')
