"""The ``compound`` command."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from shared.domain.errors import DomainError
from shared.settings import Settings, SettingsError


def _settings() -> Settings:
    """Settings from the environment, with the servers of a running ``compound run``."""
    from infra.supervisor import runtime_urls

    env = dict(os.environ)
    base = Settings.from_env(env)
    for name, url in runtime_urls(base).items():
        env.setdefault(name, url)
    return Settings.from_env(env)


@click.group()
def main() -> None:
    """Compound: an event-sourced team coaching platform."""


@main.command()
def run() -> None:
    """Start everything (servers, migrations, gateway) and stop it all on Ctrl-C."""
    from infra.supervisor import run as run_all

    sys.exit(run_all(Settings.from_env()))


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations (also done by every start)."""
    from infra.migrate import current_revision, upgrade
    from shared.database import make_engine

    engine = make_engine(_settings(), pool_size=1)
    upgrade(engine, revision)
    click.echo(f"database at revision {current_revision(engine)}")
    engine.dispose()


@main.group()
def events() -> None:
    """The event log."""


@events.command("reference")
def events_reference() -> None:
    """Print the event catalogue as Markdown (the end of docs/events.md)."""
    from shared.eventlog import CATALOGUE
    from shared.eventlog.reference import catalogue_markdown

    click.echo(catalogue_markdown(CATALOGUE), nl=False)


@main.group()
def keys() -> None:
    """Master keys for personal data."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a new master key (put it first in COMPOUND_MASTER_KEYS)."""
    from shared.eventlog import generate_master_key

    click.echo(generate_master_key())


@keys.command("rotate")
def keys_rotate() -> None:
    """Re-wrap every data key with the first of COMPOUND_MASTER_KEYS."""
    from infra.supervisor import master_keys_for
    from shared.database import make_engine
    from shared.eventlog import KeyRing

    settings = _settings()
    master = master_keys_for(settings).split(",")
    engine = make_engine(settings, pool_size=1)
    with engine.begin() as conn:
        count = KeyRing(master).rotate(conn)
    click.echo(f"re-wrapped {count} data keys with the newest master key")
    engine.dispose()


def _store(settings: Settings) -> Any:
    from infra.supervisor import master_keys_for
    from shared.database import make_engine
    from shared.eventlog import EventStore, KeyRing

    return EventStore(
        make_engine(settings, pool_size=2),
        keyring=KeyRing(master_keys_for(settings).split(",")),
        max_event_bytes=settings.max_event_bytes,
    )


@main.command()
@click.option("--demo", is_flag=True, help="The demo organisation with 12 weeks of history.")
def seed(demo: bool) -> None:
    """Put data in the database (today: the demo organisation)."""
    from infra.seed import demo_exists, seed_demo
    from infra.supervisor import secret_key_for

    if not demo:
        raise click.UsageError("say what to seed: --demo")
    settings = _settings()
    store = _store(settings)
    try:
        if demo_exists(store):
            click.echo("the demo organisation exists already; nothing to do")
            return
        seeded = seed_demo(store, secret_key_for(settings), settings.demo_password, say=click.echo)
        click.echo(f"demo organisation ready: {seeded.events} events")
        for role, email in seeded.logins.items():
            click.echo(f"  {role:9s} {email} / {settings.demo_password}")
    finally:
        store.engine.dispose()


def _org_actor(store: Any, tenant: str | None) -> Any:
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


@main.group()
def users() -> None:
    """People of an organisation."""


@users.command("list")
@click.option("--org", "tenant", help="Organisation name or id.")
def users_list(tenant: str | None) -> None:
    from sqlalchemy import select

    from shared.directory import Person

    store = _store(_settings())
    actor = _org_actor(store, tenant)
    with store.engine.connect() as conn:
        for p in conn.execute(
            select(Person).where(Person.tenant_id == actor.tenant_id).order_by(Person.email)
        ).all():
            click.echo(
                f"{p.id}  {p.role:8s} {p.status:8s} {p.email or '-'}  {p.display_name or ''}"
            )
    store.engine.dispose()


@users.command("invite")
@click.argument("email")
@click.option("--role", type=click.Choice(["employee", "manager", "admin"]), default="employee")
@click.option("--team", "team_id", help="Team id to join.")
@click.option("--org", "tenant", help="Organisation name or id.")
def users_invite(email: str, role: str, team_id: str | None, tenant: str | None) -> None:
    """Invite someone; prints the invitation link's path."""
    import uuid

    from itsdangerous import URLSafeTimedSerializer

    from infra.supervisor import secret_key_for

    settings = _settings()
    store = _store(settings)
    actor = _org_actor(store, tenant)
    from shared.commands import OrganizationCommands

    invited = OrganizationCommands(store).invite(
        actor, email, role, uuid.UUID(team_id) if team_id else None
    )
    token = URLSafeTimedSerializer(secret_key_for(settings), salt="invitation").dumps(
        {"t": str(actor.tenant_id), "p": str(invited.person_id)}
    )
    click.echo(f"invited {email} ({invited.person_id}): /invite/{token}")
    store.engine.dispose()


@users.command("erase")
@click.argument("person_id")
@click.option("--org", "tenant", help="Organisation name or id.")
@click.confirmation_option(prompt="Erase this person's personal data for good?")
def users_erase(person_id: str, tenant: str | None) -> None:
    """Crypto-shred a person."""
    import uuid

    from shared.commands import OrganizationCommands

    store = _store(_settings())
    OrganizationCommands(store).erase(_org_actor(store, tenant), uuid.UUID(person_id))
    click.echo(f"erased {person_id}")
    store.engine.dispose()


@main.group()
def teams() -> None:
    """Teams of an organisation."""


@teams.command("list")
@click.option("--org", "tenant", help="Organisation name or id.")
def teams_list(tenant: str | None) -> None:
    from sqlalchemy import select

    from shared.directory import Team

    store = _store(_settings())
    actor = _org_actor(store, tenant)
    with store.engine.connect() as conn:
        for t in conn.execute(
            select(Team).where(Team.tenant_id == actor.tenant_id).order_by(Team.name)
        ).all():
            click.echo(
                f"{t.id}  {t.name}" + (f"  (in {t.parent_team_id})" if t.parent_team_id else "")
            )
    store.engine.dispose()


@teams.command("create")
@click.argument("name")
@click.option("--parent", "parent_id", help="Parent team id.")
@click.option("--org", "tenant", help="Organisation name or id.")
def teams_create(name: str, parent_id: str | None, tenant: str | None) -> None:
    import uuid

    from shared.commands import OrganizationCommands

    store = _store(_settings())
    team_id = OrganizationCommands(store).create_team(
        _org_actor(store, tenant), name, uuid.UUID(parent_id) if parent_id else None
    )
    click.echo(f"created team {name}: {team_id}")
    store.engine.dispose()


@teams.command("add-manager")
@click.argument("team_id")
@click.argument("person_id")
@click.option("--org", "tenant", help="Organisation name or id.")
def teams_add_manager(team_id: str, person_id: str, tenant: str | None) -> None:
    import uuid

    from shared.commands import OrganizationCommands

    store = _store(_settings())
    OrganizationCommands(store).assign_manager(
        _org_actor(store, tenant), uuid.UUID(team_id), uuid.UUID(person_id)
    )
    click.echo("done")
    store.engine.dispose()


@main.group()
def directory() -> None:
    """The directory read model (organisations, teams, people, tokens)."""


@directory.command("rebuild")
def directory_rebuild() -> None:
    """Rebuild the directory from the event log."""
    from shared import directory as directory_model

    store = _store(_settings())
    count = directory_model.rebuild(store)
    click.echo(f"directory rebuilt from {count} events")
    store.engine.dispose()


def _main() -> None:
    try:
        main()
    except SettingsError as err:
        click.echo(f"compound: {err}", err=True)
        sys.exit(2)
    except DomainError as err:
        click.echo(f"compound: {err.detail}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    _main()
