"""The read models: ``compound projections`` and ``compound digests``."""

from __future__ import annotations

import uuid
from typing import Any

import click

from services.cli.context import cli_settings, open_store, org_actor, with_master_keys


@click.group()
def projections() -> None:
    """Read models fed by the event log."""


@projections.command("status")
def projections_status() -> None:
    """Position, lag (events and seconds), last error and tenants waiting at a poison event
    of each projection, then each waiting tenant."""
    from rich.console import Console

    from shared import bootstrap
    from shared.projections.quarantine import quarantined

    store = open_store(cli_settings())
    rt = bootstrap.projection_runtime(store)
    console = Console()
    console.print(_status_table(rt.status()))
    with store.engine.connect() as conn:
        waiting = quarantined(conn)
    if waiting:
        console.print(_quarantine_table(waiting))
    store.engine.dispose()


def _status_table(statuses: Any) -> Any:
    """One row per projection."""
    from rich.table import Table

    table = Table(
        "projection",
        "version",
        "generation",
        "position",
        "partitions",
        "lag (events)",
        "lag (s)",
        "status",
        "quarantined (tenants/held events)",
        "last error",
    )
    for s in statuses:
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
            f"{s.quarantined_tenants}/{s.held_events}" if s.quarantined_tenants else "",
            error,
        )
    return table


def _quarantine_table(waiting: Any) -> Any:
    """One row per tenant waiting at a poison event."""
    from rich.table import Table

    table = Table(
        "projection",
        "tenant",
        "since",
        "position",
        "event",
        "held events",
        "error",
        title="Tenants waiting at a poison event (compound projections retry NAME --tenant ID)",
    )
    for q in waiting:
        table.add_row(
            q.projection,
            str(q.tenant_id),
            q.since.isoformat(timespec="seconds"),
            str(q.position),
            f"{q.event_type} {q.event_id}",
            str(q.held_events),
            q.error,
        )
    return table


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

    from shared import bootstrap
    from shared.projections.parallel import rebuild_in_processes

    settings = with_master_keys(cli_settings())
    store = open_store(settings)
    rt = bootstrap.projection_runtime(store)
    names = list(rt.projections) if everything else [name] if name else []
    unknown = [n for n in names if n not in rt.projections]
    if not names or unknown:
        raise click.UsageError(f"name a projection ({', '.join(rt.projections)}) or --all")
    # Redrawn twice a second, not rich's ten: each redraw builds the bar (holding the GIL
    # the rebuild's folding needs) and a rebuild takes minutes.
    with Progress(refresh_per_second=2) as progress:
        task = progress.add_task(f"rebuilding {', '.join(names)}", total=max(1, store.head()))

        def advance(position: int, head: int) -> None:
            progress.update(task, completed=position, total=max(1, head))

        if processes > 1 and len(names) > 1:
            url = store.engine.url.render_as_string(hide_password=False)
            keys = list(settings.master_keys)
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
@click.option(
    "--tenant",
    help="The quarantined tenant (organisation id or name); default, every one.",
)
@click.option(
    "--skip-event",
    is_flag=True,
    help="Skip the poison event (recorded: rebuilds skip it too), then apply the rest: for a "
    "fix by a compensating event.",
)
def projections_retry(name: str, tenant: str | None, skip_event: bool) -> None:
    """Apply again, in order, the events a projection held back at a poison event (after a
    fix: an upcaster, a mended projection; or a compensating event with --skip-event) and
    release the tenant, or show the new failure."""
    from shared import bootstrap

    store = open_store(cli_settings())
    rt = bootstrap.projection_runtime(store, ensure=False)
    if name not in rt.projections:
        raise click.UsageError(f"name a projection ({', '.join(rt.projections)})")
    tenant_id = None if tenant is None else _tenant_id(store, tenant)
    try:
        results = rt.retry(name, tenant_id, skip_event=skip_event)
    except LookupError as err:
        raise click.ClickException(str(err)) from err
    finally:
        store.engine.dispose()
    for released in results:
        if released.waiting is None:
            click.echo(f"{name}: released, {released.applied} held events applied")
        else:
            event = released.waiting.event
            click.echo(
                f"{name}: tenant {event.tenant_id} still waits at {event.position} "
                f"({event.type}): {released.waiting.message}; {released.applied} applied, "
                f"{released.held_events} held"
            )
    click.echo(f"{name} will go on at the next catch-up")


def _tenant_id(store: Any, tenant: str) -> uuid.UUID:
    """``tenant`` as an id: a UUID as given, otherwise an organisation's name."""
    try:
        return uuid.UUID(tenant)
    except ValueError:
        return uuid.UUID(str(org_actor(store, tenant).tenant_id))


@click.group()
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

    settings = cli_settings()
    store = open_store(settings)
    actor = org_actor(store, tenant)
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

    settings = cli_settings()
    store = open_store(settings)
    week = week or iso_week_of(datetime.now(UTC))
    tally = send_digests(store.engine, mailer_for(settings), week)
    click.echo(
        f"digests of {week}: {tally}"
        + (" (failed ones stay unsent: run again)" if tally.failed else "")
    )
    store.engine.dispose()
    if tally.failed:
        raise SystemExit(1)


@click.group()
def slack() -> None:
    """The Slack app's tables (docs/chat.md)."""


@slack.command("rebuild")
def slack_rebuild() -> None:
    """Rebuild Slack account links and digest times from the event log."""
    from shared.chat.rebuild import rebuild

    store = open_store(cli_settings())
    links, times = rebuild(store)
    click.echo(f"slack links: {links}, digest times: {times}")
    store.engine.dispose()


@click.group()
def msteams() -> None:
    """The Teams bot's tables (docs/chat.md)."""


@msteams.command("rebuild")
def msteams_rebuild() -> None:
    """Rebuild Teams account links from the event log."""
    from shared.msteams.rebuild import rebuild

    store = open_store(cli_settings())
    click.echo(f"teams links: {rebuild(store)}")
    store.engine.dispose()
