"""The directory (organisations, teams, people, tokens) and HTTP idempotency records.

The directory is a read model of the organisation events, kept up to date in the same
transaction as each append (an inline projection) so that a login right after an invitation
works; `compound directory rebuild` recreates it from the event log.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE organizations (
            id          uuid PRIMARY KEY,
            name        text        NOT NULL,
            created_at  timestamptz NOT NULL,
            position    bigint      NOT NULL
        );

        CREATE TABLE teams (
            id              uuid PRIMARY KEY,
            tenant_id       uuid NOT NULL REFERENCES organizations (id),
            name            text NOT NULL,
            parent_team_id  uuid REFERENCES teams (id),
            created_at      timestamptz NOT NULL
        );
        CREATE INDEX teams_tenant ON teams (tenant_id);

        CREATE TABLE people (
            id            uuid PRIMARY KEY,
            tenant_id     uuid NOT NULL REFERENCES organizations (id),
            email         text,
            display_name  text,
            role          text NOT NULL CHECK (role IN ('employee', 'manager', 'admin')),
            status        text NOT NULL CHECK (status IN ('invited', 'active', 'left', 'erased')),
            time_zone     text NOT NULL DEFAULT 'UTC',
            password_hash text,
            invited_at    timestamptz NOT NULL,
            joined_at     timestamptz
        );
        CREATE UNIQUE INDEX people_email ON people (lower(email)) WHERE email IS NOT NULL;
        CREATE INDEX people_tenant ON people (tenant_id);

        CREATE TABLE team_members (
            team_id    uuid NOT NULL REFERENCES teams (id),
            person_id  uuid NOT NULL REFERENCES people (id),
            tenant_id  uuid NOT NULL,
            is_manager boolean NOT NULL DEFAULT false,
            PRIMARY KEY (team_id, person_id)
        );
        CREATE INDEX team_members_person ON team_members (person_id);

        CREATE TABLE access_tokens (
            id          uuid PRIMARY KEY,
            tenant_id   uuid NOT NULL,
            person_id   uuid NOT NULL REFERENCES people (id),
            name        text NOT NULL,
            kind        text NOT NULL CHECK (kind IN ('personal', 'session')),
            token_hash  text NOT NULL UNIQUE,
            created_at  timestamptz NOT NULL,
            expires_at  timestamptz,
            revoked_at  timestamptz
        );
        CREATE INDEX access_tokens_person ON access_tokens (person_id);

        CREATE TABLE idempotency_records (
            tenant_id     uuid NOT NULL,
            actor         text NOT NULL,
            key           text NOT NULL,
            request_hash  text NOT NULL,
            status        integer NOT NULL,
            body          jsonb NOT NULL,
            created_at    timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, actor, key)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE idempotency_records;
        DROP TABLE access_tokens;
        DROP TABLE team_members;
        DROP TABLE people;
        DROP TABLE teams;
        DROP TABLE organizations;
        """
    )
