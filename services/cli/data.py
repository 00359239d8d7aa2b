"""The database and the log: ``compound db``, ``events``, ``keys``, ``seed`` and
``directory``."""

from __future__ import annotations

from typing import Any

import click

from services.cli.context import cli_settings, open_store


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations (also done by every start)."""
    from infra.migrate import current_revision, upgrade
    from shared import bootstrap

    engine = bootstrap.engine(cli_settings(), pool_size=1)
    upgrade(engine, revision)
    click.echo(f"database at revision {current_revision(engine)}")
    engine.dispose()


@click.group()
def events() -> None:
    """The event log."""


@events.command("reference")
def events_reference() -> None:
    """Print the event catalogue as Markdown (the end of docs/events.md)."""
    from shared.eventlog import CATALOGUE
    from shared.eventlog.reference import catalogue_markdown

    click.echo(catalogue_markdown(CATALOGUE), nl=False)


@events.command("reseal")
@click.option("--page", default=500, show_default=True, help="events per transaction")
def events_reseal(page: int) -> None:
    """Seal the behaviour and named ids of events written before they were sealed (once, in a
    maintenance window: appends wait for each page)."""
    from shared.eventlog.resealing import reseal

    store = open_store(cli_settings())
    try:
        report = reseal(store.engine, store.keyring, page)
    finally:
        store.engine.dispose()
    click.echo(
        f"read {report.read} events with behaviour: sealed {report.sealed}, "
        f"sealed the named id of {report.named}, dropped {report.dropped} of erased people"
    )
    if report.dropped:
        click.echo("now run: compound projections rebuild --all")


@click.group()
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
    from shared import bootstrap
    from shared.calendar.connections import rotate_tokens as calendar_tokens_rotate
    from shared.eventlog import KeyRing

    settings = cli_settings()
    master = master_keys_for(settings).split(",")
    engine = bootstrap.engine(settings, pool_size=1)
    with engine.begin() as conn:
        count = KeyRing(master).rotate(conn)
        tokens = calendar_tokens_rotate(conn, master)
    click.echo(f"re-wrapped {count} data keys with the newest master key")
    click.echo(f"re-encrypted {tokens} calendar tokens with the newest master key")
    engine.dispose()


@click.command()
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
    settings = cli_settings()
    store = open_store(settings)
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

    settings = cli_settings()
    store = open_store(settings)
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


@click.group()
def directory() -> None:
    """The directory read model (organisations, teams, people, tokens)."""


@directory.command("rebuild")
def directory_rebuild() -> None:
    """Rebuild the directory from the event log."""
    from shared import directory as directory_model

    store = open_store(cli_settings())
    count = directory_model.rebuild(store)
    click.echo(f"directory rebuilt from {count} events")
    store.engine.dispose()
