"""``compound releases``: the weekly releases of lever figures (docs/privacy.md)."""

from __future__ import annotations

import click

from services.cli.context import cli_settings, open_store


@click.group()
def releases() -> None:
    """Weekly releases: what managers read, computed once per closed week."""


@releases.command("publish")
def releases_publish() -> None:
    """Catch the levers up, then publish every due, unreleased week of every organisation
    (what the scheduler does every ten minutes, 50 weeks at a time; safe to run again)."""
    from shared import bootstrap
    from shared.releases.publish import publish_caught_up

    settings = cli_settings()
    store = open_store(settings)
    done = publish_caught_up(store, settings, bootstrap.projection_runtime(store), limit=None)
    click.echo(f"{done.releases} releases of {done.weeks} organisation-weeks published")
    store.engine.dispose()


@releases.command("accuracy")
def releases_accuracy() -> None:
    """Print how noisy released figures are at n = 5, 10, 25, 100 (docs/privacy.md)."""
    from shared.releases.accuracy import accuracy_table

    click.echo(accuracy_table(cli_settings().privacy_epsilon))
