"""Single sign-on with OpenID Connect (docs/sso.md): the rows the login reads.

* ``sso_connections``: an organisation's provider (issuer, client id, the client secret
  sealed under the master keys, "SSO required", just-in-time accounts, break-glass admin);
* ``sso_domains``: the e-mail domains routed to it (a domain belongs to one organisation);
* ``sso_identities``: a person's identity at the provider (SHA-256 of issuer and subject).

All three are written in the transaction that appends ``SsoConfigured`` / ``SsoRemoved`` /
``SsoIdentityLinked`` (shared/sso/store.py), so they never lag the log and can be rebuilt
from it.

Revision ID: 0027
Revises: 0026
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS sso_connections (
            tenant_id             uuid        PRIMARY KEY,
            issuer                text        NOT NULL,
            client_id             text        NOT NULL,
            client_secret         text        NOT NULL,
            sso_required          boolean     NOT NULL,
            jit_accounts          boolean     NOT NULL,
            break_glass_person_id uuid,
            configured_at         timestamptz NOT NULL
        );
        CREATE TABLE IF NOT EXISTS sso_domains (
            domain    text PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES sso_connections ON DELETE CASCADE
        );
        CREATE INDEX IF NOT EXISTS sso_domains_tenant ON sso_domains (tenant_id);
        CREATE TABLE IF NOT EXISTS sso_identities (
            tenant_id     uuid NOT NULL,
            identity_hash text NOT NULL,
            person_id     uuid NOT NULL,
            PRIMARY KEY (tenant_id, identity_hash)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS sso_identities, sso_domains, sso_connections;")
