"""The admin console's reads at 10,000 people (issue 22).

* ``events_tenant_type_position`` (tenant_id, type, position): the audit
  (services/gateway/admin/audit.py) reads an organisation's events of the audited types
  (directory, credential, sign-in, export and integration events) newest first, a hundred at
  a time. Without it the read walked the whole log backwards by position, past every journal,
  calendar and pulse event of every organisation; with it, only the organisation's events of
  those types.
* ``people_tenant_email`` (tenant_id, email, id): the people page lists an organisation's
  people by address, 50 a page; without it every page sorted all of them.

Revision ID: 0033
Revises: 0032
"""

from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS events_tenant_type_position "
        "ON events (tenant_id, type, position)"
    )
    op.execute("CREATE INDEX IF NOT EXISTS people_tenant_email ON people (tenant_id, email, id)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS people_tenant_email")
    op.execute("DROP INDEX IF EXISTS events_tenant_type_position")
