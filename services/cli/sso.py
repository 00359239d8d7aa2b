"""``compound sso``: an organisation's single sign-on with OpenID Connect (docs/sso.md)."""

from __future__ import annotations

import click

from services.cli.context import cli_settings, open_store, org_actor


@click.group()
def sso() -> None:
    """Single sign-on with OpenID Connect, per organisation."""


@sso.command("configure")
@click.option("--org", "tenant", help="Organisation name or id.")
@click.option("--issuer", required=True, help="The provider's issuer URL.")
@click.option("--client-id", required=True, help="The client id the provider issued.")
@click.option("--client-secret", help="The client secret (omit to keep the stored one).")
@click.option("--domain", "domains", multiple=True, required=True, help="E-mail domain (repeat).")
@click.option("--required/--not-required", default=False, help="Turn passwords off.")
@click.option("--break-glass", "break_glass", help="Admin e-mail that keeps a password.")
@click.option("--jit/--no-jit", default=False, help="Create accounts on first sign-in.")
def configure(
    tenant: str | None,
    issuer: str,
    client_id: str,
    client_secret: str | None,
    domains: tuple[str, ...],
    required: bool,
    break_glass: str | None,
    jit: bool,
) -> None:
    """Set the organisation's provider; prints the redirect URI to register there."""
    from shared.sso.config import redirect_uri
    from shared.sso.store import configure as configure_sso

    settings = cli_settings()
    store = open_store(settings)
    try:
        found = configure_sso(
            store,
            org_actor(store, tenant),
            {
                "issuer": issuer,
                "client_id": client_id,
                "client_secret": client_secret,
                "domains": list(domains),
                "sso_required": required,
                "jit_accounts": jit,
                "break_glass_email": break_glass,
            },
        )
    finally:
        store.engine.dispose()
    click.echo(f"single sign-on set for {', '.join(found.domains)} via {found.issuer}")
    click.echo(f"redirect URI (register it at the provider): {redirect_uri(settings.public_url)}")


@sso.command("show")
@click.option("--org", "tenant", help="Organisation name or id.")
def show(tenant: str | None) -> None:
    """The organisation's provider (never the secret)."""
    from shared.sso.config import redirect_uri
    from shared.sso.store import connection_for_tenant

    settings = cli_settings()
    store = open_store(settings)
    try:
        actor = org_actor(store, tenant)
        with store.engine.connect() as conn:
            found = connection_for_tenant(conn, actor.tenant_id)
    finally:
        store.engine.dispose()
    if found is None:
        raise click.ClickException("this organisation has no single sign-on")
    for name, value in found.public().items():
        click.echo(f"{name}: {value}")
    click.echo(f"redirect_uri: {redirect_uri(settings.public_url)}")


@sso.command("remove")
@click.option("--org", "tenant", help="Organisation name or id.")
def remove(tenant: str | None) -> None:
    """End single sign-on: passwords work again."""
    from shared.sso.store import remove as remove_sso

    store = open_store(cli_settings())
    try:
        remove_sso(store, org_actor(store, tenant))
    finally:
        store.engine.dispose()
    click.echo("single sign-on removed")
