"""Alembic environment: the connection comes from infra.migrate, never from a .ini file."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
