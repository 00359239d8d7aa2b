"""Levers: the team hierarchy walked from the top (an index on teams' parents) and the
weekly digest of nudges (one row per person and ISO week, rebuilt by
``compound digests build``; the nudges themselves come from the read models).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX teams_parent ON teams (parent_team_id);

        CREATE TABLE weekly_digests (
            tenant_id   uuid        NOT NULL,
            person_id   uuid        NOT NULL,
            week        text        NOT NULL,
            digest      jsonb       NOT NULL,
            built_at    timestamptz NOT NULL DEFAULT now(),
            sent_at     timestamptz,
            PRIMARY KEY (person_id, week)
        );
        CREATE INDEX weekly_digests_unsent ON weekly_digests (week) WHERE sent_at IS NULL;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE weekly_digests; DROP INDEX teams_parent")
