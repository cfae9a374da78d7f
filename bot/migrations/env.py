"""Alembic environment. Scrutineer runs migrations itself (bot.db.Database.upgrade),
handing over an open connection; the `alembic` CLI works too with -x url=..."""
from alembic import context
from sqlalchemy import create_engine

import models  # noqa: F401  (every table module, so autogenerate sees them all)
from models.reads import modelled
from models.tables import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_, obj, autogen_context):
    """Migrations spell our UTC timestamp type as the plain column type it stores."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_with(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", render_item=render_item,
                      include_name=modelled)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///scrutineer.db")
    url = url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg2")
    with create_engine(url).connect() as conn:
        run_with(conn)
        conn.commit()
