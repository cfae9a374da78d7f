"""corrections: cancelled and moved meetings, meetings written up afterwards, corrected and
withdrawn decisions, removed partner agencies and contacts

Nothing is deleted: a cancelled meeting keeps its row (closed, never digested), a withdrawn
decision keeps its number and text, a removed agency or contact stays in the letters already
sent. Every correction is also in the audit trail.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

COLUMNS = {
    'meetings': [('cancelled_at', sa.DateTime(timezone=True)), ('cancelled_by', sa.String(length=32)),
                 ('recorded_at', sa.DateTime(timezone=True))],
    'decisions': [('corrected_at', sa.DateTime(timezone=True)), ('withdrawn_at', sa.DateTime(timezone=True)),
                  ('withdrawn_by', sa.String(length=32))],
    'agencies': [('removed_at', sa.DateTime(timezone=True))],
    'agency_contacts': [('removed_at', sa.DateTime(timezone=True))],
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        for name, type_ in columns:
            op.add_column(table, sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, _ in reversed(columns):
                batch.drop_column(name)
