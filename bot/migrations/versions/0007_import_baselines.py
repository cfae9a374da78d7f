"""import baselines: what the last import of a paper said about each item

A re-import updates a field only where the paper changed since the last import and nobody
changed it in Scrutineer since, so the value the last import brought in is kept per item and
field. Items imported before this revision get theirs from the audit trail (every import
recorded what it set) and, for the position, from the newest imported position.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

FIELDS = ('text', 'due', 'status', 'owners')


def upgrade() -> None:
    op.create_table('import_baselines',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=16), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.PrimaryKeyConstraint('item_id', 'field')
    )
    _backfill(op.get_bind())


def _backfill(bind) -> None:
    """Replay the import events of the audit trail: an item's creation by an import recorded
    everything the paper said (a status it left out became "in progress" when it carried a
    position, else "not started"); a later import recorded the fields it changed."""
    audit = sa.table('audit_events', sa.column('id', sa.Integer()), sa.column('entity', sa.String()),
                     sa.column('entity_id', sa.Integer()), sa.column('action', sa.String()),
                     sa.column('at', sa.DateTime(timezone=True)), sa.column('before', sa.JSON()),
                     sa.column('after', sa.JSON()))
    items = sa.table('items', sa.column('id', sa.Integer()), sa.column('kind', sa.String()))
    positions = sa.table('positions', sa.column('id', sa.Integer()), sa.column('item_id', sa.Integer()),
                         sa.column('text', sa.Text()), sa.column('source', sa.String()),
                         sa.column('created_at', sa.DateTime(timezone=True)))
    baselines = sa.table('import_baselines', sa.column('item_id', sa.Integer()), sa.column('field', sa.String()),
                         sa.column('value', sa.JSON()), sa.column('imported_at', sa.DateTime(timezone=True)))
    recs = set(bind.execute(sa.select(items.c.id).where(items.c.kind == 'rec')).scalars())
    found: dict[tuple[int, str], tuple[object, object]] = {}
    events = bind.execute(sa.select(audit.c.entity_id, audit.c.at, audit.c.before, audit.c.after)
                          .where(audit.c.entity == 'item', audit.c.action == 'import').order_by(audit.c.id))
    for item_id, at, before, after in events:
        if item_id not in recs or not isinstance(after, dict):
            continue
        if before is None:   # the item's creation: the whole imported item
            after = dict(after, status=after.get('status') or ('in progress' if after.get('position') else 'not started'),
                         owners=after.get('owners') or [])
        for field in FIELDS:
            if field in after:
                found[(item_id, field)] = (after[field], at)
    for item_id, text, at in bind.execute(
            sa.select(positions.c.item_id, positions.c.text, positions.c.created_at)
            .where(positions.c.source == 'import').order_by(positions.c.id)):
        if item_id in recs:
            found[(item_id, 'position')] = (text, at)
    rows = [{'item_id': item_id, 'field': field, 'value': value, 'imported_at': at}
            for (item_id, field), (value, at) in found.items()]
    for start in range(0, len(rows), 1000):
        bind.execute(baselines.insert(), rows[start:start + 1000])


def downgrade() -> None:
    op.drop_table('import_baselines')
