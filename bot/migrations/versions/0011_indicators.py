"""indicators: a committee's performance indicators and the figures recorded against them

`/indicator add …` and `/indicator rec …`. Figures are appended: one recorded again for the
same period is a correction, the newest row of a period counts.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=True),
    sa.Column('target', sa.Float(), nullable=True),
    sa.Column('lower_is_better', sa.Boolean(), nullable=False),
    sa.Column('owner_role_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], ),
    sa.ForeignKeyConstraint(['owner_role_id'], ['roles.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('committee_id', 'slug', name='uq_indicator_slug')
    )
    op.create_table('indicator_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=32), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_value_period', ['indicator_id', 'period_end', 'period_start', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_value_period')
    op.drop_table('indicator_values')
    op.drop_table('indicators')
