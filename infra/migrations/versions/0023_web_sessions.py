"""Server-side sessions and one rule for "all of a person's credentials end" (issue #20).

* ``web_sessions``: one row per portal session. The cookie carries a random 256-bit secret;
  the row keeps only its SHA-256 (``secret_hash``), so a copy of the table logs no one in.
  Operational state, not part of the log: losing it only logs people out.
* ``people.credentials_valid_after``: set by the directory projector from ``PasswordSet``,
  ``PersonRoleChanged``, ``PersonLeft``, ``PersonErased`` and ``SignedOutEverywhere``; a
  session or token created at or before it is refused. Derived from events, so a rebuild
  keeps it.
* ``access_tokens.scopes``: the token's scopes (NULL: every scope of the person's role).

See shared/sessions.py and docs/api.md ("Sessions and tokens").

Revision ID: 0023
Revises: 0020
"""

from alembic import op

revision = "0023"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS web_sessions (
            id           uuid        PRIMARY KEY,
            secret_hash  text        NOT NULL UNIQUE,
            tenant_id    uuid        NOT NULL,
            person_id    uuid        NOT NULL,
            created_at   timestamptz NOT NULL,
            last_seen_at timestamptz NOT NULL,
            user_agent   text        NOT NULL DEFAULT '',
            address      text        NOT NULL DEFAULT '',
            ended_at     timestamptz,
            end_reason   text,
            CHECK ((ended_at IS NULL) = (end_reason IS NULL))
        );
        CREATE INDEX IF NOT EXISTS web_sessions_person ON web_sessions (person_id)
            WHERE ended_at IS NULL;
        ALTER TABLE people ADD COLUMN IF NOT EXISTS credentials_valid_after timestamptz;
        ALTER TABLE access_tokens ADD COLUMN IF NOT EXISTS scopes text[];
        """
    )
    # The live directory as a rebuild would leave it (shared/directory/projector.py, once):
    # tokens made before a password change, a role change, leaving or erasure end now, and
    # personal tokens from before scopes expire 90 days after their creation.
    op.execute(
        """
        UPDATE people p SET credentials_valid_after = e.at
        FROM (SELECT (data->>'person_id')::uuid AS person, max(occurred_at) AS at
              FROM events
              WHERE type IN ('PasswordSet', 'PersonRoleChanged', 'PersonLeft', 'PersonErased')
              GROUP BY 1) e
        WHERE p.id = e.person;
        UPDATE access_tokens SET expires_at = created_at + interval '90 days'
        WHERE kind = 'personal' AND scopes IS NULL AND expires_at IS NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE access_tokens DROP COLUMN IF EXISTS scopes;
        ALTER TABLE people DROP COLUMN IF EXISTS credentials_valid_after;
        DROP TABLE IF EXISTS web_sessions;
        """
    )
