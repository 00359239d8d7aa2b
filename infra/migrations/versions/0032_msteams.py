"""The Microsoft Teams bot (docs/chat.md, "Microsoft Teams").

* ``msteams_links``: a Teams user (Azure AD tenant and object id) tied to a person; written
  in the transaction that appends ``TeamsAccountLinked`` / ``TeamsAccountUnlinked``.
* ``msteams_conversations``: the conversation reference of the bot's personal (one-to-one)
  conversation with a Teams user, kept from the last activity they sent: where proactive
  messages (feedback requests, the weekly digest) go. Personal conversations only.

Revision ID: 0032
Revises: 0031
"""

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS msteams_links (
            aad_tenant_id  text        NOT NULL,
            aad_object_id  text        NOT NULL,
            tenant_id      uuid        NOT NULL,
            person_id      uuid        NOT NULL,
            linked_at      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (aad_tenant_id, aad_object_id)
        );
        CREATE UNIQUE INDEX IF NOT EXISTS msteams_links_person
            ON msteams_links (person_id, aad_tenant_id);
        CREATE TABLE IF NOT EXISTS msteams_conversations (
            aad_tenant_id    text        NOT NULL,
            aad_object_id    text        NOT NULL,
            user_id          text        NOT NULL,
            bot_id           text        NOT NULL,
            conversation_id  text        NOT NULL,
            service_url      text        NOT NULL,
            updated_at       timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (aad_tenant_id, aad_object_id)
        );
        CREATE TABLE IF NOT EXISTS msteams_digest_sends (
            person_id  uuid        NOT NULL,
            week       text        NOT NULL,
            tenant_id  uuid        NOT NULL,
            status     text        NOT NULL DEFAULT 'queued'
                                   CHECK (status IN ('queued', 'sent', 'dropped')),
            queued_at  timestamptz NOT NULL DEFAULT now(),
            sent_at    timestamptz,
            PRIMARY KEY (person_id, week)
        );
        CREATE INDEX IF NOT EXISTS msteams_digest_sends_queued
            ON msteams_digest_sends (queued_at) WHERE status = 'queued';
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS msteams_digest_sends, msteams_conversations, msteams_links;")
