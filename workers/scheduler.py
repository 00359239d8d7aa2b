"""``compound scheduler``: exactly one per deployment; periodic catch-up of every projection,
a calendar sync job per active connection every ``COMPOUND_CALENDAR_SYNC_SECONDS``, the
stored organisation lever views kept within 10 s of the projection, and the weekly digests
of the week just ended (built and mailed once, checked every hour), and the weekly releases
of lever figures once each week is due (checked every 10 minutes, shared/releases/publish.py).

It holds a PostgreSQL advisory lock for its lifetime, so a second scheduler waits on standby
and takes over when the first dies.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine, text

from shared import bootstrap
from shared.notify import Mailer, mailer_for
from shared.settings import Settings

log = logging.getLogger("compound.scheduler")
SCHEDULER_LOCK = 0x636F6D70_5343  # "comp" "SC"
CATCH_UP_SECONDS = float(os.environ.get("COMPOUND_CATCH_UP_SECONDS", "2"))
DIGEST_CHECK_SECONDS = 3600
ORG_VIEW_SECONDS = 10  # stored organisation lever views follow the projection this closely
RELEASE_CHECK_SECONDS = 600  # due weekly releases are published within this (docs/privacy.md)


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


def refresh_org_views(engine: Engine, settings: Settings | None = None) -> int:
    """Recompute the stored organisation lever views the levers projection has moved past,
    and (with ``settings``) compute the view of every organisation with lever data at its k
    before anyone asks: an admin's first view of the organisation finds it stored."""
    from shared.commands.settings import organisation_settings
    from shared.projections.levers import refresh_org_views as refresh

    wanted = []
    if settings is not None:
        with engine.connect() as conn:
            tenants = conn.execute(
                text(
                    "SELECT o.id FROM organizations o WHERE EXISTS "
                    "(SELECT 1 FROM lever_team_weeks w WHERE w.tenant_id = o.id) ORDER BY o.id"
                )
            ).scalars()
            wanted = [(t, organisation_settings(conn, t, settings).k) for t in list(tenants)]
    refreshed = refresh(engine, wanted)
    if refreshed:
        log.info("organisation lever views refreshed: %d", refreshed)
    return refreshed


def weekly_digests(
    engine: Engine, settings: Settings, mailer: Mailer, now: datetime | None = None
) -> tuple[int, int]:
    """Build the digests of the ISO week that ended last for every organisation that has none
    for that week yet, then mail every unsent one. Returns (built, mailed).

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
        log.info("digests of %s: %d built, %d mailed", week, built, mailed)
    return built, mailed


def publish_releases(engine: Engine, settings: Settings) -> int:
    """Publish the weekly releases now due (shared/releases/publish.py); returns how many."""
    from shared import bootstrap
    from shared.releases.publish import publish_caught_up

    store = bootstrap.event_store(settings, shared_engine=engine)
    done = publish_caught_up(store, settings, bootstrap.projection_runtime(store, ensure=False))
    if done.releases:
        log.info("releases published: %d (%d organisation-weeks)", done.releases, done.weeks)
    return done.releases


def run(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level)
    # Not a line per job run (the catch-up runs every 2 s): its warnings and errors only.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.root.level))
    bootstrap.broker(settings)  # what catch_up_everything and sync_calendars send to
    engine = bootstrap.engine(settings, pool_size=1)
    with engine.connect() as lock_conn:
        while not lock_conn.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": SCHEDULER_LOCK}
        ).scalar():
            lock_conn.rollback()
            log.info("another scheduler is running; standing by")
            time.sleep(5)
        lock_conn.commit()
        log.info("scheduler running: catch-up every %ss", CATCH_UP_SECONDS)
        scheduler = BlockingScheduler()
        scheduler.add_job(
            catch_up_everything,
            "interval",
            seconds=CATCH_UP_SECONDS,
            max_instances=1,
            coalesce=True,
        )

        scheduler.add_job(
            sync_calendars,
            "interval",
            args=(engine,),
            seconds=settings.calendar.sync_seconds,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )

        scheduler.add_job(
            refresh_org_views,
            "interval",
            args=(engine, settings),
            seconds=ORG_VIEW_SECONDS,
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            weekly_digests,
            "interval",
            args=(engine, settings, mailer_for(settings)),
            seconds=DIGEST_CHECK_SECONDS,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=30),
        )

        scheduler.add_job(
            publish_releases,
            "interval",
            args=(engine, settings),
            seconds=RELEASE_CHECK_SECONDS,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=20),
        )

        def _stop(signum: int, _frame: object) -> None:
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        catch_up_everything()
        scheduler.start()
    engine.dispose()
