"""The long-running processes: ``compound run``, ``worker``, ``scheduler`` and
``calendar-provider``."""

from __future__ import annotations

import contextlib
import os
import signal
import sys

import click

from services.cli.context import cli_settings, running_servers
from shared.settings import Settings


@click.command()
def run() -> None:
    """Start everything (servers, migrations, gateway) and stop it all on Ctrl-C."""
    from infra.supervisor import run as run_all

    sys.exit(run_all(Settings.from_env()))


@click.command()
@click.option("--processes", "-p", default=1, show_default=True, help="Worker processes.")
@click.option(
    "--threads",
    "-t",
    type=click.IntRange(min=1),
    help="Threads per process (default COMPOUND_WORKER_THREADS, 4).",
)
def worker(processes: int, threads: int | None) -> None:
    """Run Dramatiq workers (projections and calendar sync)."""
    from shared.messaging import worker_environment

    env = dict(os.environ)
    for name, url in running_servers().items():
        env.setdefault(name, url)
    settings = Settings.from_env(env)
    threads = threads or settings.worker_threads
    env["COMPOUND_WORKER_THREADS"] = str(threads)  # each process sizes its pools from it
    env.update(worker_environment(settings, env, os.getpid()))
    argv = [
        sys.executable,
        "-m",
        "dramatiq",
        "workers.actors",
        "workers.calendar",
        "workers.slack",
        "workers.msteams",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
    ]
    os.execve(sys.executable, argv, env)


@click.command("calendar-provider")
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


@click.command("slack-stand-in")
@click.option("--port", type=int, help="Port (default COMPOUND_SLACK_STAND_IN_PORT or 8030).")
def slack_stand_in(port: int | None) -> None:
    """Run the local Slack Web API stand-in (docs/chat.md)."""
    import logging

    from werkzeug.serving import make_server

    from infra.slack_stand_in import create_stand_in

    settings = Settings.from_env()
    slack = settings.slack
    app = create_stand_in(
        slack.client_id or "compound",
        slack.client_secret or "",
        app_url=f"http://127.0.0.1:{settings.port}",  # the demo page posts to the gateway
        signing_secret=slack.signing_secret,
    )
    host = os.environ.get("HOST") or "127.0.0.1"
    server = make_server(host, port or slack.stand_in_port, app, threaded=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    click.echo(f"Slack stand-in at http://{host}:{server.server_port}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


@click.command()
def scheduler() -> None:
    """Run the scheduler (exactly one per deployment: others stand by)."""
    from workers.scheduler import run as run_scheduler

    settings = cli_settings()
    os.environ.setdefault("REDIS_URL", settings.redis_url or "")
    run_scheduler(settings)


@click.command("msteams-stand-in")
@click.option("--port", type=int, help="Port (default COMPOUND_MSTEAMS_STAND_IN_PORT or 8031).")
def msteams_stand_in(port: int | None) -> None:
    """Run the local Bot Framework connector stand-in for the Teams bot (docs/chat.md)."""
    import logging

    from werkzeug.serving import make_server

    from infra.msteams_stand_in import create_stand_in

    settings = Settings.from_env()
    teams = settings.msteams
    app = create_stand_in(
        teams.app_id or "compound",
        teams.app_password or "",
        bot_url=f"http://127.0.0.1:{settings.port}/msteams/messages",  # the demo page's bot
    )
    host = os.environ.get("HOST") or "127.0.0.1"
    server = make_server(host, port or teams.stand_in_port, app, threaded=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    click.echo(f"Teams connector stand-in at http://{host}:{server.server_port}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
