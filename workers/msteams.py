"""Dramatiq actor ``msteams_task``: the Teams work the gateway sent after acknowledging the
Bot Framework (answer an activity, ask for feedback; :class:`shared.msteams.work.TeamsWork`).

Redeliveries are harmless: logging is idempotent by the activity id, a feedback request takes
one answer, unlinking twice finds nothing the second time.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from shared import bootstrap
from shared.commands import JournalCommands
from shared.domain.bounds import meeting_horizon
from shared.messaging import actor
from shared.msteams.connector import Connector
from shared.msteams.jobs import TEAMS_ACTOR, TEAMS_QUEUE
from shared.msteams.links import TeamsLinks
from shared.msteams.work import TeamsWork
from shared.settings import Settings
from shared.wakeups import Wakeups

broker = bootstrap.worker_broker()  # before the actor below is declared


@cache
def teams_work() -> TeamsWork:
    """One engine and Connector client per worker process, made after the fork."""
    settings = Settings.from_env()
    store = bootstrap.event_store(settings, pool_size=settings.worker_threads)
    journal = JournalCommands(
        store,
        settings.require_secret_key(),
        Wakeups(broker),
        meeting_horizon(settings.calendar.weeks_ahead),
    )
    teams = settings.msteams
    connector = Connector(teams.app_id or "", teams.app_password or "", teams.token_url)
    return TeamsWork(
        TeamsLinks(store), journal, connector, settings.require_secret_key(), settings.public_url
    )


@actor(TEAMS_ACTOR, TEAMS_QUEUE, broker, max_retries=5, min_backoff=1_000, time_limit=120_000)
def msteams_task(kind: str, payload: dict[str, Any]) -> None:
    """Run one Teams task; Connector or database failures raise and Dramatiq retries."""
    teams_work().run(kind, payload)
