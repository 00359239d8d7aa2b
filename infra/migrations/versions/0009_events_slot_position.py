"""The event log's partition index: (slot, position), where a slot is the tenant id's last
byte modulo 64 (shared/projections/partitions.py). A projection partition reads its own
events as one ordered range per slot instead of walking the whole log's: before it, with four
partitions PostgreSQL spent about twice the CPU of one partition on a catch-up
(docs/scaling.md).

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX events_slot_position ON events "
        "((get_byte(uuid_send(tenant_id), 15) % 64), position)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX events_slot_position")
