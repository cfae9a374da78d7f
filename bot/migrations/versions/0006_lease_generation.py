"""the lease's generation, which fences a holder that lost the lease

Incremented whenever the lease changes hands: the dispatcher claims a row only while the
lease row still names it holder, with the generation it took the lease with, unexpired by the
database's clock.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('generation', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.drop_column('generation')
