"""``compound scheduler``: exactly one per deployment; periodic catch-up of every projection,
a calendar sync job per active connection every ``COMPOUND_CALENDAR_SYNC_SECONDS``, the
weekly digests of the week just ended (built and mailed once, checked every hour; sent in
Slack at each person's chosen day and hour, checked every 5 minutes), the close
of every ended pulse period (its waiting answers released, its key destroyed, checked every
minute), and the weekly releases of lever figures once each week is due (checked every 10
minutes, shared/releases/publish.py).

It holds a PostgreSQL advisory lock for its lifetime, so a second scheduler waits on standby
and takes over when the first dies.

Each job (:data:`JOBS`) runs on an executor of its own (one thread) with an engine of its own
(one connection, its statements under the job's time limit): a slow or stuck job (a digest
build waiting on a lock) stops at its limit and never delays calendar sync or catch-up,
nor takes the connection they need.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine, text

from shared import bootstrap
from shared.notify import Mailer, Tally, mailer_for
from shared.settings import Settings

log = logging.getLogger("compound.scheduler")
SCHEDULER_LOCK = 0x636F6D70_5343  # "comp" "SC"
CATCH_UP_SECONDS = float(os.environ.get("COMPOUND_CATCH_UP_SECONDS", "2"))
DIGEST_CHECK_SECONDS = 3600
PULSE_CLOSE_SECONDS = 60  # a pulse period's waiting answers enter the log this soon after it ends
SESSION_PURGE_SECONDS = 3600  # ended and expired portal sessions are forgotten hourly
RELEASE_CHECK_SECONDS = 600  # due weekly releases are published within this (docs/privacy.md)
SLACK_DIGEST_CHECK_SECONDS = 300  # a digest reaches Slack this soon after its chosen hour


def catch_up_everything() -> None:
    from shared.projections import PROJECTIONS
    from shared.wakeups import wake

    for projection in PROJECTIONS:
        try:
            wake(projection.name)  # unless a wake-up already waits in the queue
        except Exception as err:  # Redis away: try again next tick
            log.warning("catch-up of %s not sent: %s", projection.name, type(err).__name__)


def sync_calendars(engine: Engine) -> int:
    """Send a sync job for every active calendar connection; returns how many were sent."""
    from shared.calendar.jobs import send_sync

    with engine.connect() as conn:
        ids = conn.execute(
            text("SELECT id FROM calendar_connections WHERE status = 'active'")
        ).scalars()
        active = list(ids)
    return sum(send_sync(connection_id) for connection_id in active)


def weekly_digests(
    engine: Engine, settings: Settings, mailer: Mailer, now: datetime | None = None
) -> tuple[int, Tally]:
    """Build the digests of the ISO week that ended last for every organisation that has none
    for that week yet, then mail every unsent one. Returns (built, what became of the mails);
    a failed mail stays unsent and is tried again at the next check.

    Safe to run as often as one likes: a week is built once per organisation (rebuild it with
    ``compound digests build``) and a digest is mailed once (``sent_at``); a scheduler that was
    down on Monday catches up at its next check. Older weeks are never mailed retroactively.
    """
    from shared.commands.settings import organisation_settings
    from shared.domain.weeks import iso_week_of
    from shared.projections.digests import build_digests, send_digests

    week = iso_week_of((now or datetime.now(UTC)) - timedelta(weeks=1))
    built = 0
    with engine.connect() as conn:
        pending = conn.execute(
            text(
                "SELECT o.id FROM organizations o WHERE NOT EXISTS (SELECT 1 FROM "
                "weekly_digests d WHERE d.tenant_id = o.id AND d.week = :w) ORDER BY o.id"
            ),
            {"w": week},
        ).scalars()
        tenants = list(pending)
    for tenant_id in tenants:
        with engine.begin() as conn:
            k = organisation_settings(conn, tenant_id, settings).k
            built += build_digests(conn, tenant_id, week, k)
    mailed = send_digests(engine, mailer, week)
    if built or mailed:
        log.info("digests of %s: %d built; mails: %s", week, built, mailed)
    return built, mailed


def slack_digests(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Queue the weekly digests now due in Slack (each person's day and hour in their zone)
    and send again those queued long ago and still unsent (shared/chat/digests.py); returns
    how many were queued. Nothing without the Slack app (no signing secret)."""
    if not settings.slack.enabled:
        return 0
    from shared.chat.digests import SlackDigests
    from shared.chat.jobs import send_task

    digests = SlackDigests(bootstrap.event_store(settings, shared_engine=engine))
    queued, again = digests.queue(now or datetime.now(UTC), lambda task: send_task("digest", task))
    if queued or again:
        log.info("slack digests queued: %d, sent again: %d", queued, again)
    return queued


def msteams_digests(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Queue the weekly digests now due in Teams and send again those queued long ago and
    still unsent (shared/msteams/digests.py); returns how many were queued. Nothing without
    the Teams bot (no app id)."""
    if not settings.msteams.enabled:
        return 0
    from shared.msteams.digests import TeamsDigests
    from shared.msteams.jobs import send_task

    digests = TeamsDigests(bootstrap.event_store(settings, shared_engine=engine))
    queued, again = digests.queue(now or datetime.now(UTC), lambda task: send_task("digest", task))
    if queued or again:
        log.info("teams digests queued: %d, sent again: %d", queued, again)
    return queued


def close_pulse_periods(engine: Engine, settings: Settings) -> tuple[int, int]:
    """Close every pulse period that has ended: its waiting answers enter the log in shuffled
    batches and its key is destroyed (shared/pulses/vault.py). Returns (periods, answers)."""
    from shared.pulses import PulseVault
    from shared.wakeups import wake

    closed, released = PulseVault(bootstrap.event_store(settings, shared_engine=engine)).close_due()
    if released:
        try:
            wake("levers")
        except Exception as err:  # Redis away: the periodic catch-up picks them up
            log.warning("levers wake-up not sent: %s", type(err).__name__)
    if closed:
        log.info("pulse periods closed: %d, answers released: %d", closed, released)
    return closed, released


def publish_releases(settings: Settings, engine: Engine | None = None) -> int:
    """Publish the weekly releases now due (shared/releases/publish.py); returns how many.

    Parameters:
        settings: the process's settings.
        engine: an engine to use (default: one of its own for this run: catching the levers
            up and publishing want more than a job's single connection).
    """
    from shared.releases.publish import publish_caught_up

    store = bootstrap.event_store(settings, pool_size=2, shared_engine=engine)
    try:
        runtime = bootstrap.projection_runtime(store, ensure=False)
        done = publish_caught_up(store, settings, runtime)
    finally:
        if engine is None:
            store.engine.dispose()
    if done.releases:
        log.info("releases published: %d (%d organisation-weeks)", done.releases, done.weeks)
    return done.releases


def purge_sessions(engine: Engine, settings: Settings) -> int:
    """Delete the portal sessions that ended or expired (shared/sessions.py); returns how
    many."""
    from shared.sessions import Lifetimes, purge

    gone = purge(engine, datetime.now(UTC), Lifetimes.of(settings))
    if gone:
        log.info("sessions ended or expired, forgotten: %d", gone)
    return gone


@dataclass(frozen=True)
class Job:
    """One periodic job of the scheduler.

    Parameters:
        name: its id, and the name of its executor.
        run: what it does; given its engine (when ``database``), then ``args``.
        seconds: how often it runs.
        time_limit: the longest one run may take: each SQL statement of the run is cancelled
            past it (PostgreSQL's ``statement_timeout`` on the job's engine), and a run that
            took longer is logged.
        database: whether it gets an engine of its own (one connection).
        first_run: how long after the start it first runs (None: one interval).
        args: its further arguments.
    """

    name: str
    run: Callable[..., Any]
    seconds: float
    time_limit: float
    database: bool = True
    first_run: timedelta | None = None
    args: tuple[Any, ...] = ()


def jobs(settings: Settings) -> list[Job]:
    """The scheduler's jobs for ``settings``.

    Parameters:
        settings: the process's settings.

    Returns:
        Catch-up, calendar sync, the weekly digests, their Slack direct messages, the close
        of ended pulse periods, the purge of ended portal sessions, the weekly releases.
    """
    return [
        Job("catch_up", catch_up_everything, CATCH_UP_SECONDS, 10, database=False),
        Job(
            "calendar_sync",
            sync_calendars,
            settings.calendar.sync_seconds,
            60,
            first_run=timedelta(0),
        ),
        Job(
            "weekly_digests",
            weekly_digests,
            DIGEST_CHECK_SECONDS,
            600,
            first_run=timedelta(seconds=30),
            args=(settings, mailer_for(settings)),
        ),
        Job(
            "slack_digests",
            slack_digests,
            SLACK_DIGEST_CHECK_SECONDS,
            120,
            first_run=timedelta(seconds=45),
            args=(settings,),
        ),
        Job(
            "msteams_digests",
            msteams_digests,
            SLACK_DIGEST_CHECK_SECONDS,
            120,
            first_run=timedelta(seconds=50),
            args=(settings,),
        ),
        Job(
            "pulse_periods",
            close_pulse_periods,
            PULSE_CLOSE_SECONDS,
            60,
            first_run=timedelta(0),
            args=(settings,),
        ),
        Job(
            "web_sessions",
            purge_sessions,
            SESSION_PURGE_SECONDS,
            60,
            first_run=timedelta(minutes=1),
            args=(settings,),
        ),
        Job(
            "releases",
            publish_releases,
            RELEASE_CHECK_SECONDS,
            600,
            database=False,
            first_run=timedelta(seconds=20),
            args=(settings,),
        ),
    ]


def _timed(job: Job, engine: Engine | None) -> Callable[[], Any]:
    """``job``'s run with its engine and arguments, logging a run past its time limit."""
    args = (engine, *job.args) if engine is not None else job.args

    def run() -> Any:
        started = time.monotonic()
        try:
            return job.run(*args)
        finally:
            took = time.monotonic() - started
            if took > job.time_limit:
                log.warning(
                    "job %s took %.1fs, past its limit of %ss", job.name, took, job.time_limit
                )

    return run


@contextmanager
def scheduled(
    scheduler: BaseScheduler, settings: Settings, planned: list[Job]
) -> Iterator[BaseScheduler]:
    """``scheduler`` with each of ``planned`` on an executor and an engine of its own.

    When the block ends, however it ends, a scheduler still running is shut down (waiting
    for the runs under way) and then the engines are disposed of: no job outlives the block.

    Parameters:
        scheduler: a scheduler not started yet (blocking in production, background in tests).
        settings: the process's settings (the database).
        planned: the jobs (:func:`jobs`).

    Returns:
        A context manager yielding the scheduler.
    """
    with ExitStack() as engines:
        for job in planned:
            engine = None
            if job.database:
                engine = bootstrap.engine(
                    settings,
                    pool_size=1,  # one thread: one connection (a second if a step nests)
                    max_overflow=1,
                    statement_timeout_ms=int(job.time_limit * 1000),
                )
                engines.callback(engine.dispose)
            scheduler.add_executor(ThreadPoolExecutor(max_workers=1), job.name)
            first = datetime.now(UTC) + (job.first_run or timedelta(seconds=job.seconds))
            scheduler.add_job(
                _timed(job, engine),
                "interval",
                id=job.name,
                executor=job.name,
                seconds=job.seconds,
                max_instances=1,
                coalesce=True,
                next_run_time=first,
            )
        engines.callback(_shut_down, scheduler)  # first out: before the engines go
        yield scheduler


def _shut_down(scheduler: BaseScheduler) -> None:
    """Stop ``scheduler`` if it still runs, waiting for the runs under way."""
    if scheduler.running:
        scheduler.shutdown(wait=True)


def run(settings: Settings) -> None:
    """Run the scheduler until SIGTERM or SIGINT, once this process holds the scheduler lock.

    Parameters:
        settings: the process's settings.
    """
    logging.basicConfig(level=settings.log_level)
    # Not a line per job run (the catch-up runs every 2 s): its warnings and errors only.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.root.level))
    bootstrap.broker(settings)  # what catch_up_everything and sync_calendars send to
    # The lock's own connection, held for the scheduler's lifetime: no job ever waits for it.
    lock_engine = bootstrap.engine(settings, pool_size=1, max_overflow=0)
    with lock_engine.connect() as lock_conn:
        while not lock_conn.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": SCHEDULER_LOCK}
        ).scalar():
            lock_conn.rollback()
            log.info("another scheduler is running; standing by")
            time.sleep(5)
        lock_conn.commit()
        log.info("scheduler running: catch-up every %ss", CATCH_UP_SECONDS)
        with scheduled(BlockingScheduler(), settings, jobs(settings)) as scheduler:

            def _stop(signum: int, _frame: object) -> None:
                scheduler.shutdown(wait=False)

            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            catch_up_everything()
            scheduler.start()
    lock_engine.dispose()
