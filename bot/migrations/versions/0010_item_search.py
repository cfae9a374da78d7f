"""item search: the databases' own full-text search over items and their positions

`/actions search foster carers` finds "foster carer", "trained" finds "training", and case
never matters (Welsh `Ŵ` and `ŵ` too). One search document per item, its text and every
position of it, kept in step by triggers in the same transaction that writes the text (the
ORM, the `/update … position` fast path and imports alike), so a new word is found as soon
as it is committed:

- SQLite: an FTS5 table, `item_search(text, positions)` with rowid = the item's id, tokenised
  by `porter unicode61 remove_diacritics 2` (stemmed, case-folded, accents folded: "dwr"
  also finds "dŵr"). Ranked by bm25, the item's own text weighing twice a position's.
- PostgreSQL: a table `item_search(item_id, positions, document)`, document a tsvector of the
  English configuration (the item's text weighted A, its positions B) with a GIN index;
  ranked by ts_rank.

Neither is in the models (models/tables.py): they are the stores' own kinds of table,
written only by these triggers and read by models/reads.py (SEARCH_TABLES).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 10:00:00.000000
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

SQLITE = [
    """CREATE VIRTUAL TABLE item_search USING fts5(
           text, positions, tokenize = 'porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER item_search_item_insert AFTER INSERT ON items BEGIN
           INSERT INTO item_search (rowid, text, positions) VALUES (new.id, new.text, '');
       END""",
    """CREATE TRIGGER item_search_item_text AFTER UPDATE OF text ON items BEGIN
           UPDATE item_search SET text = new.text WHERE rowid = new.id;
       END""",
    """CREATE TRIGGER item_search_item_delete AFTER DELETE ON items BEGIN
           DELETE FROM item_search WHERE rowid = old.id;
       END""",
    # Positions are appended; one edited or removed (or moved to another item) rebuilds the
    # positions of the items concerned.
    """CREATE TRIGGER item_search_position_insert AFTER INSERT ON positions BEGIN
           UPDATE item_search SET positions = CASE WHEN positions = '' THEN new.text
                                                   ELSE positions || char(10) || new.text END
            WHERE rowid = new.item_id;
       END""",
    """CREATE TRIGGER item_search_position_update AFTER UPDATE OF text, item_id ON positions BEGIN
           UPDATE item_search SET positions = coalesce(
                  (SELECT group_concat(text, char(10)) FROM positions WHERE item_id = item_search.rowid), '')
            WHERE rowid IN (old.item_id, new.item_id);
       END""",
    """CREATE TRIGGER item_search_position_delete AFTER DELETE ON positions BEGIN
           UPDATE item_search SET positions = coalesce(
                  (SELECT group_concat(text, char(10)) FROM positions WHERE item_id = old.item_id), '')
            WHERE rowid = old.item_id;
       END""",
    """INSERT INTO item_search (rowid, text, positions)
       SELECT id, text, coalesce((SELECT group_concat(text, char(10)) FROM positions
                                   WHERE positions.item_id = items.id), '')
         FROM items""",
]

POSTGRES = [
    """CREATE TABLE item_search (
           item_id integer PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
           positions text NOT NULL DEFAULT '',
           document tsvector NOT NULL)""",
    "CREATE INDEX ix_item_search_document ON item_search USING gin (document)",
    # The one place an item's search document is worked out: its text and every position.
    """CREATE FUNCTION item_search_refresh(item integer) RETURNS void LANGUAGE sql AS $$
           INSERT INTO item_search (item_id, positions, document)
           SELECT i.id, coalesce(p.texts, ''),
                  setweight(to_tsvector('english'::regconfig, i.text), 'A')
                  || setweight(to_tsvector('english'::regconfig, coalesce(p.texts, '')), 'B')
             FROM items i
             LEFT JOIN LATERAL (SELECT string_agg(text, E'\\n' ORDER BY as_of, id) AS texts
                                  FROM positions WHERE item_id = i.id) p ON true
            WHERE i.id = item
           ON CONFLICT (item_id) DO UPDATE SET positions = excluded.positions, document = excluded.document
       $$""",
    """CREATE FUNCTION item_search_of_item() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           PERFORM item_search_refresh(NEW.id);
           RETURN NULL;
       END $$""",
    """CREATE FUNCTION item_search_of_position() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           IF TG_OP IN ('UPDATE', 'DELETE') THEN
               PERFORM item_search_refresh(OLD.item_id);
           END IF;
           IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.item_id <> OLD.item_id) THEN
               PERFORM item_search_refresh(NEW.item_id);
           END IF;
           RETURN NULL;
       END $$""",
    """CREATE TRIGGER item_search_item AFTER INSERT OR UPDATE OF text ON items
           FOR EACH ROW EXECUTE FUNCTION item_search_of_item()""",
    """CREATE TRIGGER item_search_position AFTER INSERT OR UPDATE OF text, item_id OR DELETE ON positions
           FOR EACH ROW EXECUTE FUNCTION item_search_of_position()""",
    "SELECT item_search_refresh(id) FROM items",
]


def upgrade() -> None:
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("item_insert", "item_text", "item_delete", "position_insert", "position_update",
                        "position_delete"):
            op.execute(f"DROP TRIGGER item_search_{trigger}")
        op.execute("DROP TABLE item_search")
        return
    op.execute("DROP TRIGGER item_search_position ON positions")
    op.execute("DROP TRIGGER item_search_item ON items")
    op.execute("DROP FUNCTION item_search_of_position()")
    op.execute("DROP FUNCTION item_search_of_item()")
    op.execute("DROP FUNCTION item_search_refresh(integer)")
    op.execute("DROP TABLE item_search")
