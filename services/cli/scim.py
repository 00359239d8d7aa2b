"""SCIM provisioning tokens: ``compound scim token`` and ``compound scim revoke`` (docs/scim.md)."""

from __future__ import annotations

import uuid

import click

from services.cli.context import cli_settings, open_store, org_actor


@click.group()
def scim() -> None:
    """SCIM 2.0 provisioning from an identity provider."""


@scim.command("token")
@click.option("--org", "tenant", help="Organisation name or id.")
def scim_token(tenant: str | None) -> None:
    """Issue a bearer token for the organisation's /scim/v2 and print it (alone, once)."""
    from shared.scim import tokens

    store = open_store(cli_settings())
    _, token = tokens.issue(store, org_actor(store, tenant))
    store.engine.dispose()
    click.echo(token)


@scim.command("revoke")
@click.argument("token_id")
@click.option("--org", "tenant", help="Organisation name or id.")
def scim_revoke(token_id: str, tenant: str | None) -> None:
    """End a bearer token (its id is in `compound scim tokens`)."""
    from shared.scim import tokens

    store = open_store(cli_settings())
    tokens.revoke(store, org_actor(store, tenant), uuid.UUID(token_id))
    store.engine.dispose()
    click.echo(f"revoked {token_id}")


@scim.command("tokens")
@click.option("--org", "tenant", help="Organisation name or id.")
def scim_tokens(tenant: str | None) -> None:
    """List the organisation's tokens (ids and dates; a token itself is never kept)."""
    from shared.scim import tokens

    store = open_store(cli_settings())
    for found in tokens.listed(store, org_actor(store, tenant).tenant_id):
        ended = f"revoked {found.revoked_at:%Y-%m-%d %H:%M}" if found.revoked_at else "live"
        click.echo(f"{found.id}  issued {found.created_at:%Y-%m-%d %H:%M}  {ended}")
    store.engine.dispose()
