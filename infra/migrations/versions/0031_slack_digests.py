"""The weekly digest as a Slack direct message (docs/chat.md, "The weekly digest in Slack").

* ``slack_digest_times``: the day and hour (in the person's zone) a person chose for their
  digest in Slack, and that zone; written in the transaction that appends
  ``SlackDigestTimeSet``. No row: Monday 09:00 in the zone the person joined with.
* ``slack_digest_sends``: one row per person and digest week once the digest is due: the
  claim that makes the direct message go out at most once (``status`` ``queued``, then
  ``sent``, or ``dropped`` when the person can no longer be reached in Slack).

Revision ID: 0031
Revises: 0030
"""

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS slack_digest_times (
            person_id  uuid     PRIMARY KEY,
            tenant_id  uuid     NOT NULL,
            day        smallint NOT NULL CHECK (day BETWEEN 0 AND 6),
            hour       smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
            time_zone  text     NOT NULL
        );
        CREATE TABLE IF NOT EXISTS slack_digest_sends (
            person_id  uuid        NOT NULL,
            week       text        NOT NULL,
            tenant_id  uuid        NOT NULL,
            team_id    text        NOT NULL,
            status     text        NOT NULL DEFAULT 'queued'
                                   CHECK (status IN ('queued', 'sent', 'dropped')),
            queued_at  timestamptz NOT NULL DEFAULT now(),
            sent_at    timestamptz,
            PRIMARY KEY (person_id, week)
        );
        CREATE INDEX IF NOT EXISTS slack_digest_sends_queued
            ON slack_digest_sends (queued_at) WHERE status = 'queued';
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS slack_digest_sends, slack_digest_times;")
