"""publication: a committee's public tracker page, off by default

`/scrutiny publish on` sets committees.published_at; `off` clears it, and the page at
/public/<workspace>/<committee> answers 404 at once.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('committees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('committees', schema=None) as batch_op:
        batch_op.drop_column('published_at')
