"""email partners: letters (and chases) by email, with a personal acknowledgement link

A contact known only by email gets the letter through the outbox (method "email"). Their
recipient row keeps the sha256 of the link's token (the token itself is only in the email),
when the link stops working, and the mail server's refusal if it refused the address.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 00:25:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('letter_recipients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ack_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('ack_token_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('delivery_error', sa.Text(), nullable=True))
        batch_op.create_index('ix_recipient_ack_token', ['ack_token_hash'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('letter_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_recipient_ack_token')
        batch_op.drop_column('delivery_error')
        batch_op.drop_column('ack_token_expires_at')
        batch_op.drop_column('ack_token_hash')
