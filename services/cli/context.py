"""What the ``compound`` commands share: their settings, the event store and the acting
organisation."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import click

from shared import bootstrap
from shared.eventlog import EventStore
from shared.settings import Settings


def cli_settings() -> Settings:
    """Settings from the environment, with the servers of a running ``compound run``.

    Raises:
        SettingsError: a variable is set to a value that cannot be used.
    """
    from infra.supervisor import runtime_urls

    env = dict(os.environ)
    base = Settings.from_env(env)
    for name, url in runtime_urls(base).items():
        env.setdefault(name, url)
    return Settings.from_env(env)


def running_servers() -> dict[str, str]:
    """``DATABASE_URL`` and ``REDIS_URL`` of a running ``compound run``, if any."""
    from infra.supervisor import runtime_urls

    return runtime_urls(Settings.from_env())


def with_master_keys(settings: Settings) -> Settings:
    """``settings`` with ``COMPOUND_MASTER_KEYS``, or the key a local ``compound run`` keeps
    in the data directory."""
    from infra.supervisor import master_keys_for

    keys = tuple(master_keys_for(settings).split(","))
    return dataclasses.replace(settings, master_keys=keys)


def open_store(settings: Settings) -> EventStore:
    """The event store of a command (dispose of ``store.engine`` when done).

    Raises:
        SettingsError: no database URL.
    """
    return bootstrap.event_store(with_master_keys(settings), pool_size=2)


def org_actor(store: EventStore, tenant: str | None) -> Any:
    """The system acting in one organisation (the only one, or the one named)."""
    from sqlalchemy import select

    from shared.commands import system_actor
    from shared.directory import Organization

    with store.engine.connect() as conn:
        orgs = conn.execute(select(Organization.id, Organization.name)).all()
    matches = [o for o in orgs if tenant in (None, str(o.id), o.name)]
    if len(matches) != 1:
        names = ", ".join(f"{o.name} ({o.id})" for o in orgs) or "none"
        raise click.UsageError(f"name the organisation with --org; organisations: {names}")
    return system_actor(matches[0].id, source="cli")
