"""Alembic's entry point for feedback's migrations. Run by `feedback.store.migrate`, which
hands over an open connection (in `config.attributes["connection"]`) inside the transaction
that holds the migration lock; there is no alembic.ini and no URL here."""

from __future__ import annotations

from alembic import context

from feedback.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # The whole upgrade is one transaction, opened by the caller: all of it or none of it.
    transaction_per_migration=False,
    render_as_batch=True,  # SQLite can only change a column by rebuilding its table
)
with context.begin_transaction():
    context.run_migrations()
