"""Pulses no one can link (issue #17): a key per organisation and pulse period, the
"answered" markers it keys, and the answers waiting to enter the log in a shuffled batch.

* ``pulse_period_keys``: the period's key, wrapped by the master keys; ``wrapped_key`` is
  set to NULL when the period closes (the key is destroyed, ``closed_at`` says when).
* ``pulse_answered``: one row per person, team and period, named only by an HMAC under the
  period key (``marker``), with an HMAC of the answers (``answers_mac``) so a retry with the
  same answers is recognised. Deleted when the period closes.
* ``pulse_waiting``: answers not yet in the log, sealed with the period key. No person id,
  no time of answering: a random id, the team, the period. Deleted when their batch is
  appended, in the same transaction.

See shared/pulses/ and docs/privacy.md ("Pulses").

Revision ID: 0020
Revises: 0022
"""

from alembic import op

revision = "0020"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS pulse_period_keys (
            tenant_id   uuid        NOT NULL,
            period      text        NOT NULL,
            wrapped_key bytea,
            closes_at   timestamptz NOT NULL,
            closed_at   timestamptz,
            PRIMARY KEY (tenant_id, period),
            CHECK ((wrapped_key IS NULL) = (closed_at IS NOT NULL))
        );
        CREATE INDEX IF NOT EXISTS pulse_period_keys_open ON pulse_period_keys (closes_at)
            WHERE closed_at IS NULL;
        CREATE TABLE IF NOT EXISTS pulse_answered (
            tenant_id   uuid  NOT NULL,
            period      text  NOT NULL,
            marker      text  NOT NULL,
            answers_mac text  NOT NULL,
            PRIMARY KEY (tenant_id, period, marker)
        );
        CREATE TABLE IF NOT EXISTS pulse_waiting (
            id          uuid  PRIMARY KEY,
            tenant_id   uuid  NOT NULL,
            team_id     uuid  NOT NULL,
            period      text  NOT NULL,
            sealed      bytea NOT NULL
        );
        CREATE INDEX IF NOT EXISTS pulse_waiting_team ON pulse_waiting (tenant_id, period, team_id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS pulse_waiting, pulse_answered, pulse_period_keys;")
