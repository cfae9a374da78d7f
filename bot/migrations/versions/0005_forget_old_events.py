"""index processed_events by received_at, for forgetting old event ids

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:00:00.000000
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.create_index('ix_event_received', ['received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.drop_index('ix_event_received')
