"""Alembic environment: migrations run on the connection govflow hands over."""

from alembic import context

from govflow.ledger.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")

if connection is None:
    raise RuntimeError("run govflow migrations through govflow.ledger.migrate or `govflow db`")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
