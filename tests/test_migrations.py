"""The Alembic migrations build exactly the schema the models describe, on both stores."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.db import Database
from models.reads import modelled
from models.tables import Base


async def test_migrated_schema_matches_the_models(database_url):
    db = Database(database_url)
    try:
        await db.upgrade()
        await db.upgrade()  # a second start finds nothing to do

        def diff(sync_conn):
            # The search tables (0010) are the stores' own kinds of table, outside the models.
            context = MigrationContext.configure(sync_conn, opts={"include_name": modelled})
            return compare_metadata(context, Base.metadata)

        async with db.engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await db.dispose()
