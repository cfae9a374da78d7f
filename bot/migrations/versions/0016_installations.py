"""installations: a Slack installation per workspace (OAuth) and its state

`scrutineer serve` with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET installs itself in many
workspaces: each workspace's bot token (and refresh token, when tokens rotate) is kept in
`installations`; the single-use states of the OAuth flow in `oauth_states`.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 00:25:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'installations',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('team_id', sa.String(32), nullable=False),
        sa.Column('enterprise_id', sa.String(32), nullable=False),
        sa.Column('team_name', sa.String(200), nullable=True),
        sa.Column('app_id', sa.String(32), nullable=True),
        sa.Column('is_enterprise_install', sa.Boolean(), nullable=False),
        sa.Column('bot_token', sa.Text(), nullable=False),
        sa.Column('bot_refresh_token', sa.Text(), nullable=True),
        sa.Column('bot_token_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('bot_id', sa.String(32), nullable=True),
        sa.Column('bot_user_id', sa.String(32), nullable=True),
        sa.Column('scopes', sa.Text(), nullable=False),
        sa.Column('installer_user_id', sa.String(32), nullable=True),
        sa.Column('installed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('uninstalled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('uninstalled_reason', sa.String(100), nullable=True),
    )
    op.create_index('ix_installations_team', 'installations', ['enterprise_id', 'team_id'], unique=True)
    op.create_table(
        'oauth_states',
        sa.Column('state', sa.String(100), primary_key=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table('oauth_states')
    op.drop_index('ix_installations_team', table_name='installations')
    op.drop_table('installations')
