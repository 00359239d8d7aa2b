"""The ``compound`` command."""

from __future__ import annotations

import os
import sys

import click

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


def _main() -> None:
    try:
        main()
    except SettingsError as err:
        click.echo(f"compound: {err}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    _main()
