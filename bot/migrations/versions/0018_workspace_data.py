"""a record of each workspace whose data was removed

`scrutineer workspace delete` (and the retention period after an uninstall) removes every row
of a workspace; `removed_workspaces` keeps when, why and how many rows of each table went. `org_workspaces`: the
workspaces of an Enterprise Grid org installed org-wide, as their requests showed them (the worker
sends their messages with the org's token).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 02:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'removed_workspaces',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('row_counts', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_removed_workspace_team', 'removed_workspaces', ['team_id'])
    op.create_table(
        'org_workspaces',
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('enterprise_id', sa.String(length=32), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('team_id'),
    )


def downgrade() -> None:
    op.drop_table('org_workspaces')
    op.drop_index('ix_removed_workspace_team', table_name='removed_workspaces')
    op.drop_table('removed_workspaces')
