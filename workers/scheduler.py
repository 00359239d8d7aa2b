"""``compound scheduler``: exactly one per deployment; periodic catch-up of every projection,
and a calendar sync job per active connection every ``COMPOUND_CALENDAR_SYNC_SECONDS``.

It holds a PostgreSQL advisory lock for its lifetime, so a second scheduler waits on standby
and takes over when the first dies.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine, text

from shared.database import make_engine
from shared.settings import Settings

log = logging.getLogger("compound.scheduler")
SCHEDULER_LOCK = 0x636F6D70_5343  # "comp" "SC"
CATCH_UP_SECONDS = float(os.environ.get("COMPOUND_CATCH_UP_SECONDS", "2"))


def catch_up_everything() -> None:
    from shared.projections import PROJECTIONS
    from shared.wakeups import send_catch_up

    for projection in PROJECTIONS:
        try:
            send_catch_up(projection.name)
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


def run(settings: Settings) -> None:
    from shared.queue import setup_broker

    logging.basicConfig(level=settings.log_level)
    setup_broker(settings.redis_url)
    engine = make_engine(settings, pool_size=1)
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

        def _stop(signum: int, _frame: object) -> None:
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        catch_up_everything()
        scheduler.start()
    engine.dispose()
