"""Each journal stream's actions by week: (stream_id, occurred_at) of ``MicroActionLogged``.

The daily action limit counts a person's actions in a week (or a range of weeks, for an
import) on every logged action (shared/commands/volume.py); the ``occurred_at`` column keeps
each sealed action's Monday. Without this index the count read the person's whole stream
(by events_stream_version) and grew with their history: 2,000 events in a stream made it
about 13 times slower than with it. Partial: other event types pay nothing on append.

Revision ID: 0029
Revises: 0028
"""

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS events_action_weeks ON events (stream_id, occurred_at) "
        "WHERE type = 'MicroActionLogged'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS events_action_weeks")
