"""settings per workspace and per committee, and the admins a workspace's admins name

`/scrutiny settings` keeps a council's own settings in `workspace_settings` (one row per
workspace) and a committee's in `committee_settings`; a NULL column means the default (the
environment's, or the workspace's for a committee). `/scrutiny admin add @x` names an admin in
`workspace_admins` (ended by removed_at, never deleted).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 02:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'workspace_settings',
        sa.Column('team_id', sa.String(32), primary_key=True),
        sa.Column('council_name', sa.String(200), nullable=True),
        sa.Column('tz_name', sa.String(64), nullable=True),
        sa.Column('digest_delay_minutes', sa.Integer(), nullable=True),
        sa.Column('remind_days', sa.Integer(), nullable=True),
        sa.Column('escalate_days', sa.Integer(), nullable=True),
        sa.Column('escalate_roles', sa.JSON(), nullable=True),
        sa.Column('meeting_minutes', sa.Integer(), nullable=True),
        sa.Column('holiday_region', sa.String(32), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(32), nullable=True),
    )
    op.create_table(
        'committee_settings',
        sa.Column('committee_id', sa.Integer(), sa.ForeignKey('committees.id'), primary_key=True),
        sa.Column('team_id', sa.String(32), nullable=False),
        sa.Column('update_days', sa.Integer(), nullable=True),
        sa.Column('escalate_days', sa.Integer(), nullable=True),
        sa.Column('escalate_roles', sa.JSON(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(32), nullable=True),
    )
    op.create_table(
        'workspace_admins',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('team_id', sa.String(32), nullable=False),
        sa.Column('user_id', sa.String(32), nullable=False),
        sa.Column('added_by', sa.String(32), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('removed_by', sa.String(32), nullable=True),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_workspace_admin', 'workspace_admins', ['team_id', 'user_id', 'removed_at'])


def downgrade() -> None:
    op.drop_index('ix_workspace_admin', table_name='workspace_admins')
    op.drop_table('workspace_admins')
    op.drop_table('committee_settings')
    op.drop_table('workspace_settings')
