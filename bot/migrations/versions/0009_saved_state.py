"""saved state: values Slack can't carry (a long "More" filter, a long import preview's
metadata), kept under an unguessable key for a day

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saved_state',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('saved_state', schema=None) as batch_op:
        batch_op.create_index('ix_saved_state_created', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('saved_state', schema=None) as batch_op:
        batch_op.drop_index('ix_saved_state_created')
    op.drop_table('saved_state')
