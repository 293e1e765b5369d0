"""Alembic environment: always runs on the connection that ``open_database`` hands in."""

from alembic import context
from sqlalchemy import text

from console.models.account_search import in_models
from console.models.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through console.models.database.open_database().")

if connection.dialect.name == "postgresql":
    # Several workstations may open the database at the same moment after an update; only
    # one of them upgrades the schema, the others wait for it and then find nothing to do.
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('portal-console-schema'))"))

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
    include_name=in_models,  # not the SQLite search index (migration 0002)
)
context.run_migrations()
