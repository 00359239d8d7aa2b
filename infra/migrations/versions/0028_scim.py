"""SCIM provisioning (docs/scim.md): directory tables kept by shared/directory/provisioning.py.

* ``scim_tokens``: an organisation's bearer tokens, as SHA-256.
* ``scim_identities``: the identity provider's ``userName`` / ``externalId`` of a person.
* ``scim_groups``: the identity provider's ``externalId`` of a team.

Revision ID: 0028
Revises: 0027
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS scim_tokens (
            id          uuid        PRIMARY KEY,
            tenant_id   uuid        NOT NULL,
            token_hash  text        NOT NULL,
            created_at  timestamptz NOT NULL,
            revoked_at  timestamptz
        );
        CREATE UNIQUE INDEX IF NOT EXISTS scim_tokens_hash ON scim_tokens (token_hash);
        CREATE TABLE IF NOT EXISTS scim_identities (
            person_id   uuid    PRIMARY KEY REFERENCES people (id),
            tenant_id   uuid    NOT NULL,
            user_name   text,
            external_id text,
            removed     boolean NOT NULL DEFAULT false
        );
        CREATE INDEX IF NOT EXISTS scim_identities_user_name
            ON scim_identities (tenant_id, lower(user_name));
        CREATE INDEX IF NOT EXISTS scim_identities_external_id
            ON scim_identities (tenant_id, external_id);
        CREATE TABLE IF NOT EXISTS scim_groups (
            team_id     uuid    PRIMARY KEY REFERENCES teams (id),
            tenant_id   uuid    NOT NULL,
            external_id text,
            removed     boolean NOT NULL DEFAULT false
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS scim_groups, scim_identities, scim_tokens;")
