"""Calendar connections (OAuth tokens, encrypted) and the sync state of each meeting.

Neither table is a read model of the event log: ``calendar_connections`` holds what only the
provider can give (tokens, the sync or delta token), ``calendar_meetings`` the version last
appended per meeting, so a sync appends only what changed. Losing the second one costs a
full resync, and even then nothing is appended twice: event ids derive from each meeting's
version (docs/calendar.md).

Revision ID: 0005
Revises: 0003
"""

from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE calendar_connections (
            id            uuid PRIMARY KEY,
            tenant_id     uuid NOT NULL,
            person_id     uuid NOT NULL,
            provider      text NOT NULL,
            status        text NOT NULL
                          CHECK (status IN ('active', 'needs_reconnect', 'disconnected')),
            token         bytea,
            sync_token    text,
            connected_at  timestamptz NOT NULL DEFAULT now(),
            last_sync_at  timestamptz,
            last_error    text,
            meetings      integer NOT NULL DEFAULT 0,
            UNIQUE (person_id, provider)
        );
        CREATE INDEX calendar_connections_active ON calendar_connections (status)
            WHERE status = 'active';

        CREATE TABLE calendar_meetings (
            connection_id  uuid NOT NULL REFERENCES calendar_connections (id) ON DELETE CASCADE,
            meeting_key    text NOT NULL,
            version        text NOT NULL,
            cancelled      boolean NOT NULL,
            start_at       timestamptz,
            PRIMARY KEY (connection_id, meeting_key)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE calendar_meetings; DROP TABLE calendar_connections;")
