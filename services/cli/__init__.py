"""The ``compound`` command: one module per family of subcommands."""

from __future__ import annotations

import sys

import click

from services.cli.data import db, directory, events, keys, seed
from services.cli.people import teams, users
from services.cli.processes import (
    calendar_provider,
    msteams_stand_in,
    run,
    scheduler,
    slack_stand_in,
    worker,
)
from services.cli.read_models import digests, msteams, projections, slack
from services.cli.releases import releases
from services.cli.scim import scim
from services.cli.sso import sso
from shared.domain.errors import DomainError
from shared.settings import SettingsError


@click.group()
def main() -> None:
    """Compound: an event-sourced team coaching platform."""


for command in (
    run,
    db,
    events,
    keys,
    seed,
    users,
    teams,
    directory,
    worker,
    calendar_provider,
    slack_stand_in,
    msteams_stand_in,
    scheduler,
    projections,
    digests,
    slack,
    msteams,
    releases,
    sso,
    scim,
):
    main.add_command(command)


def entry_point() -> None:
    """The console script ``compound``: settings and domain errors as one line, not a
    traceback."""
    try:
        main()
    except SettingsError as err:
        click.echo(f"compound: {err}", err=True)
        sys.exit(2)
    except DomainError as err:
        click.echo(f"compound: {err.detail}", err=True)
        sys.exit(1)


_main = entry_point  # the console script of installs made before the package split
