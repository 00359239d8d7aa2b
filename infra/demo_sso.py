"""``make run``: the demo organisation signs in through the local provider (docs/sso.md).

Its domain ``demo.test`` is routed to the local provider's OpenID Connect side, with the
calendar client's id and secret; SSO is not required, so the demo passwords keep working.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from shared.commands import system_actor
from shared.eventlog import EventStore
from shared.sso.store import configure, connection_for_tenant

DEMO_DOMAIN = "demo.test"


def connect_demo_sso(store: EventStore, env: dict[str, str], say: Callable[[str], None]) -> None:
    """Route ``demo.test`` to the local provider, unless it is routed there already."""
    issuer = env["COMPOUND_CALENDAR_LOCAL_URL"].rstrip("/")
    with store.engine.connect() as conn:
        tenant = conn.execute(
            text("SELECT tenant_id FROM people WHERE lower(email) = 'admin@demo.test'")
        ).scalar()
        found = connection_for_tenant(conn, tenant) if tenant else None
    if tenant is None or (found is not None and found.issuer == issuer):
        return
    configure(
        store,
        system_actor(tenant, source="seed"),
        {
            "issuer": issuer,
            "client_id": env["COMPOUND_CALENDAR_LOCAL_CLIENT_ID"],
            "client_secret": env["COMPOUND_CALENDAR_LOCAL_CLIENT_SECRET"],
            "domains": [DEMO_DOMAIN],
        },
    )
    say(f"Single sign-on: @{DEMO_DOMAIN} signs in through the local provider at {issuer}")
