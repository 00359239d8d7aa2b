"""The Slack app (docs/chat.md): installations and account links.

* ``slack_installations``: one row per Slack workspace (``team_id``), the organisation it
  serves and its bot token sealed under the master keys (a MultiFernet, like calendar
  tokens). A workspace serves one organisation only.
* ``slack_links``: which person a Slack user of an installed workspace is. Written in the
  transaction that appends ``SlackAccountLinked`` / ``SlackAccountUnlinked``.

Revision ID: 0026
Revises: 0020
"""

from alembic import op

revision = "0026"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS slack_installations (
            team_id      text        PRIMARY KEY,
            tenant_id    uuid        NOT NULL,
            team_name    text        NOT NULL,
            bot_user_id  text        NOT NULL,
            bot_token    bytea       NOT NULL,
            installed_by uuid        NOT NULL,
            installed_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS slack_installations_tenant ON slack_installations (tenant_id);
        CREATE TABLE IF NOT EXISTS slack_links (
            team_id       text        NOT NULL REFERENCES slack_installations ON DELETE CASCADE,
            slack_user_id text        NOT NULL,
            tenant_id     uuid        NOT NULL,
            person_id     uuid        NOT NULL,
            linked_at     timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (team_id, slack_user_id)
        );
        CREATE UNIQUE INDEX IF NOT EXISTS slack_links_person ON slack_links (person_id, team_id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS slack_links, slack_installations;")
