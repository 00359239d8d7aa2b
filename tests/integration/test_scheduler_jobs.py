"""The scheduler's jobs each run on an executor and a connection of their own, under a time
limit (issue 18): while the weekly digests' check is stuck (its table locked), calendar sync
and catch-up keep their pace; the stuck run is cancelled at its limit, and the next run, the
lock gone, succeeds (real PostgreSQL and Redis)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text

from services.gateway.timeouts import is_statement_timeout
from shared import bootstrap
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.settings import Settings
from workers import scheduler as scheduling

pytestmark = pytest.mark.integration

LIMIT = 1.0  # the digests' time limit in this test, seconds
STUCK = "weekly_digests"
# How long a condition may take on a loaded machine; a run that meets it goes on at once.
WAIT = 60.0


class Runs:
    """What the scheduler did, per job: submitted, finished, failed (with the errors)."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.submitted: Counter[str] = Counter()
        self.executed: Counter[str] = Counter()
        self.errors: dict[str, list[BaseException]] = {}

    def __call__(self, event: JobEvent) -> None:
        with self.changed:
            if event.code == EVENT_JOB_SUBMITTED:
                self.submitted[event.job_id] += 1
            elif event.code == EVENT_JOB_EXECUTED:
                self.executed[event.job_id] += 1
            elif isinstance(event, JobExecutionEvent) and event.exception is not None:
                self.errors.setdefault(event.job_id, []).append(event.exception)
            self.changed.notify_all()

    def wait(self, what: str, until: Callable[[], bool], seconds: float) -> None:
        with self.changed:
            assert self.changed.wait_for(until, seconds), f"{what} within {seconds} s: {self}"

    def __repr__(self) -> str:
        return f"submitted={dict(self.submitted)} executed={dict(self.executed)}"


def fast(settings: Settings) -> list[scheduling.Job]:
    """The production jobs, every 0.2 s from the start; the digests limited to :data:`LIMIT`."""
    planned = []
    for job in scheduling.jobs(settings):
        limit = LIMIT if job.name == STUCK else job.time_limit
        planned.append(
            dataclasses.replace(job, seconds=0.2, time_limit=limit, first_run=timedelta(0))
        )
    return planned


def test_a_stuck_digests_check_starves_neither_calendar_sync_nor_catch_up(
    store: EventStore, settings: Settings
) -> None:
    runtime(store).ensure()  # the read models' tables exist
    bootstrap.broker(settings)
    runs = Runs()
    background = BackgroundScheduler()
    background.add_listener(runs, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    with scheduling.scheduled(background, settings, fast(settings)) as jobs:
        with store.engine.begin() as holder:
            holder.execute(text("LOCK TABLE weekly_digests IN ACCESS EXCLUSIVE MODE"))
            jobs.start()
            try:
                runs.wait("the digests' check started", lambda: runs.submitted[STUCK] > 0, WAIT)
                started = time.monotonic()
                stuck_at = runs.executed["calendar_sync"], runs.executed["catch_up"]
                runs.wait(
                    "calendar sync and catch-up ran three times each beside the stuck check",
                    lambda: (
                        runs.executed["calendar_sync"] >= stuck_at[0] + 3
                        and runs.executed["catch_up"] >= stuck_at[1] + 3
                    ),
                    WAIT,
                )
                if time.monotonic() - started < LIMIT * 0.8:  # still inside the stuck run
                    assert runs.executed[STUCK] == 0
                # Without its limit the check would wait for the lock for ever.
                runs.wait("the stuck check stopped", lambda: STUCK in runs.errors, WAIT)
                assert is_statement_timeout(runs.errors[STUCK][0])
            finally:
                holder.rollback()  # the lock goes
        runs.wait("a check without the lock", lambda: runs.executed[STUCK] > 0, WAIT)
    assert not background.running
    assert "calendar_sync" not in runs.errors and "catch_up" not in runs.errors


def test_each_job_runs_on_an_executor_of_its_own_one_at_a_time(settings: Settings) -> None:
    background = BackgroundScheduler()
    planned = fast(settings)
    with scheduling.scheduled(background, settings, planned):
        for job in planned:
            scheduled = background.get_job(job.name)
            assert scheduled is not None and scheduled.executor == job.name
            assert scheduled.max_instances == 1
        assert {job.name for job in planned} >= {"catch_up", "calendar_sync", STUCK, "releases"}


def test_the_block_stops_its_scheduler_however_it_ends(settings: Settings) -> None:
    """A failure inside the block (a test's assertion, say) leaves no job running on."""
    before = set(threading.enumerate())
    background = BackgroundScheduler()
    runs = Runs()
    background.add_listener(runs, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    with (
        pytest.raises(RuntimeError, match="inside the block"),
        scheduling.scheduled(background, settings, fast(settings)) as jobs,
    ):
        jobs.start()
        runs.wait("a job ran", lambda: runs.executed["calendar_sync"] > 0, WAIT)
        raise RuntimeError("inside the block")
    assert not background.running
    assert [t.name for t in set(threading.enumerate()) - before if t.is_alive()] == []
