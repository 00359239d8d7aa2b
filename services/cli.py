"""The ``compound`` command."""

from __future__ import annotations

import contextlib
import os
import signal
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
    from shared.calendar.connections import rotate_tokens as calendar_tokens_rotate
    from shared.database import make_engine
    from shared.eventlog import KeyRing

    settings = _settings()
    master = master_keys_for(settings).split(",")
    engine = make_engine(settings, pool_size=1)
    with engine.begin() as conn:
        count = KeyRing(master).rotate(conn)
        tokens = calendar_tokens_rotate(conn, master)
    click.echo(f"re-wrapped {count} data keys with the newest master key")
    click.echo(f"re-encrypted {tokens} calendar tokens with the newest master key")
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
@click.option(
    "--people",
    type=click.IntRange(min=2),
    help="A synthetic organisation of N people (teams of about 8), written in bulk.",
)
@click.option(
    "--weeks",
    type=click.IntRange(1, 104),
    default=52,
    show_default=True,
    help="Weeks of history per person of the synthetic organisation.",
)
@click.option(
    "--seed",
    "random_seed",
    type=int,
    default=None,
    help="Random seed of the synthetic organisation (the same seed, the same data).",
)
def seed(demo: bool, people: int | None, weeks: int, random_seed: int | None) -> None:
    """Put data in the database: the demo organisation, or a large synthetic one.

    --people 5000 --weeks 52 writes about 1,000,000 events.
    """
    from infra.seed import demo_exists, seed_demo
    from infra.supervisor import secret_key_for

    if demo and people:
        raise click.UsageError("seed either --demo or --people N, not both")
    if people:
        _seed_synthetic(people, weeks, random_seed)
        return
    if not demo:
        raise click.UsageError("say what to seed: --demo, or --people N [--weeks W]")
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


def _seed_synthetic(people: int, weeks: int, random_seed: int | None) -> None:
    """``compound seed --people N --weeks W``, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from infra.supervisor import secret_key_for
    from infra.synthetic import SEED, seed_synthetic, synthetic_exists

    settings = _settings()
    store = _store(settings)
    seed_value = SEED if random_seed is None else random_seed
    try:
        if synthetic_exists(store, people, weeks, seed_value):
            click.echo("this synthetic organisation exists already; nothing to do")
            return
        labels = {
            "people": "people and teams",
            "directory": "directory",
            "history": "weeks of history",
        }
        with Progress(
            TextColumn("{task.description:18s}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(labels.get(phase, phase), total=total)
                bar.update(tasks[phase], completed=done, total=total)

            seeded = seed_synthetic(
                store,
                people,
                weeks,
                seed_value,
                progress,
                password=settings.demo_password,
                secret_key=secret_key_for(settings),
            )
        click.echo(
            f"{seeded.name}: {seeded.people} people in {seeded.teams} teams, "
            f"{seeded.events:,} events in {seeded.seconds:.1f} s ({seeded.rate:,.0f} events/s)"
        )
        click.echo(f"  admin     {seeded.admin_email} / {settings.demo_password}")
        click.echo(
            "  the read models catch up in the worker, or now with "
            "`compound projections rebuild --all`"
        )
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


@main.command()
@click.option("--processes", "-p", default=1, show_default=True, help="Worker processes.")
@click.option("--threads", "-t", default=4, show_default=True, help="Threads per process.")
def worker(processes: int, threads: int) -> None:
    """Run Dramatiq workers (projections and calendar sync)."""
    from workers.metrics import worker_environment

    env = dict(os.environ)
    for name, url in _settings_env().items():
        env.setdefault(name, url)
    env.update(worker_environment(Settings.from_env(env), env, os.getpid()))
    argv = [
        sys.executable,
        "-m",
        "dramatiq",
        "workers.actors",
        "workers.calendar",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
    ]
    os.execve(sys.executable, argv, env)


@main.command("calendar-provider")
@click.option("--port", type=int, help="Port (default COMPOUND_CALENDAR_PROVIDER_PORT or 8010).")
def calendar_provider(port: int | None) -> None:
    """Run the local calendar provider (OAuth server and Google/Graph-shaped calendar API)."""
    import logging

    from werkzeug.serving import make_server

    from services.calendar_provider import create_app
    from shared.calendar.settings import ProviderServerSettings

    settings = ProviderServerSettings.from_env(dict(os.environ), Settings.from_env().data_dir)
    if not settings.client_secret or not settings.admin_token:
        raise click.ClickException(
            "set COMPOUND_CALENDAR_LOCAL_CLIENT_SECRET and COMPOUND_CALENDAR_PROVIDER_ADMIN_TOKEN "
            "(`make run` generates both)"
        )
    server = make_server(settings.host, port or settings.port, create_app(settings), threaded=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    click.echo(f"calendar provider at http://{settings.host}:{server.server_port}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


@main.command()
def scheduler() -> None:
    """Run the scheduler (exactly one per deployment: others stand by)."""
    from workers.scheduler import run as run_scheduler

    settings = _settings()
    os.environ.setdefault("REDIS_URL", settings.redis_url or "")
    run_scheduler(settings)


@main.group()
def projections() -> None:
    """Read models fed by the event log."""


@projections.command("status")
def projections_status() -> None:
    """Position, lag (events and seconds) and last error of each projection."""
    from rich.console import Console
    from rich.table import Table

    from shared.projections import runtime

    store = _store(_settings())
    rt = runtime(store)
    rt.ensure()
    table = Table(
        "projection",
        "version",
        "generation",
        "position",
        "partitions",
        "lag (events)",
        "lag (s)",
        "status",
        "last error",
    )
    for s in rt.status():
        error = f"at {s.error_position}: {s.last_error}" if s.last_error else ""
        ahead = max(s.partitions, default=s.position)
        table.add_row(
            s.name,
            str(s.version),
            str(s.generation),
            str(s.position),
            f"{len(s.partitions)}" + (f" (up to {ahead})" if ahead > s.position else ""),
            str(s.lag_events),
            f"{s.lag_seconds:.1f}",
            s.status,
            error,
        )
    Console().print(table)
    store.engine.dispose()


@projections.command("rebuild")
@click.argument("name", required=False)
@click.option("--all", "everything", is_flag=True, help="Rebuild every projection.")
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Rebuild groups of projections in this many processes at once (one per core).",
)
def projections_rebuild(name: str | None, everything: bool, processes: int) -> None:
    """Build the next generation from position 0 while the current one serves, then switch."""
    from rich.progress import Progress

    from infra.supervisor import master_keys_for
    from shared.projections import runtime
    from shared.projections.parallel import rebuild_in_processes

    settings = _settings()
    store = _store(settings)
    rt = runtime(store)
    rt.ensure()
    names = list(rt.projections) if everything else [name] if name else []
    unknown = [n for n in names if n not in rt.projections]
    if not names or unknown:
        raise click.UsageError(f"name a projection ({', '.join(rt.projections)}) or --all")
    with Progress() as progress:
        task = progress.add_task(f"rebuilding {', '.join(names)}", total=max(1, store.head()))

        def advance(position: int, head: int) -> None:
            progress.update(task, completed=position, total=max(1, head))

        if processes > 1 and len(names) > 1:
            url = store.engine.url.render_as_string(hide_password=False)
            keys = master_keys_for(settings).split(",")
            generations = rebuild_in_processes(
                store.engine, url, keys, names, processes, progress=advance
            )
        else:
            generations = rt.rebuild_many(names, progress=advance)
        for n, generation in generations.items():
            progress.console.print(f"{n}: generation {generation} is live")
    store.engine.dispose()


@projections.command("retry")
@click.argument("name")
def projections_retry(name: str) -> None:
    """Clear a projection's failure so catch-up tries its poison event again."""
    from shared.projections import runtime

    store = _store(_settings())
    runtime(store).retry(name)
    click.echo(f"{name} will retry at the next catch-up")
    store.engine.dispose()


@main.group()
def digests() -> None:
    """The weekly digest of nudges (employees' own, managers' per team)."""


@digests.command("build")
@click.option("--org", "tenant", help="Organisation name or id.")
@click.option("--week", help="ISO week, e.g. 2026-W47 (default: this week).")
def digests_build(tenant: str | None, week: str | None) -> None:
    """(Re)build every person's digest of a week from the read models."""
    from datetime import UTC, datetime

    from shared.commands.settings import organisation_settings
    from shared.domain.weeks import iso_week_of
    from shared.projections.digests import build_digests

    settings = _settings()
    store = _store(settings)
    actor = _org_actor(store, tenant)
    week = week or iso_week_of(datetime.now(UTC))
    with store.engine.begin() as conn:
        k = organisation_settings(conn, actor.tenant_id, settings).k
        count = build_digests(conn, actor.tenant_id, week, k)
    click.echo(f"{count} digests built for {week}")
    store.engine.dispose()


@digests.command("send")
@click.option("--week", help="ISO week, e.g. 2026-W47 (default: this week).")
def digests_send(week: str | None) -> None:
    """Mail the unsent digests of a week (logged, not sent, without COMPOUND_SMTP_HOST)."""
    from datetime import UTC, datetime

    from shared.domain.weeks import iso_week_of
    from shared.notify import mailer_for
    from shared.projections.digests import send_digests

    settings = _settings()
    store = _store(settings)
    week = week or iso_week_of(datetime.now(UTC))
    click.echo(f"{send_digests(store.engine, mailer_for(settings), week)} digests sent for {week}")
    store.engine.dispose()


def _settings_env() -> dict[str, str]:
    from infra.supervisor import runtime_urls

    return runtime_urls(Settings.from_env())


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
