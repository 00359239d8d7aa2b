"""Dramatiq actor ``slack_task``: the Slack work the gateway sent after acknowledging Slack
(open the ``/compound`` modal, log its submission, unlink; :class:`shared.chat.work.SlackWork`).

Redeliveries are harmless: logging is idempotent by the modal's view id, unlinking twice
finds nothing the second time.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from shared import bootstrap
from shared.calendar.connections import TokenCipher
from shared.chat.installations import Installations
from shared.chat.jobs import SLACK_ACTOR, SLACK_QUEUE
from shared.chat.work import SlackWork
from shared.commands import JournalCommands
from shared.domain.bounds import meeting_horizon
from shared.messaging import actor
from shared.settings import Settings
from shared.wakeups import Wakeups

broker = bootstrap.worker_broker()  # before the actor below is declared


@cache
def slack_work() -> SlackWork:
    """One engine and Slack service per worker process, made after the fork."""
    settings = Settings.from_env()
    store = bootstrap.event_store(settings, pool_size=settings.worker_threads)
    journal = JournalCommands(
        store,
        settings.require_secret_key(),
        Wakeups(broker),
        meeting_horizon(settings.calendar.weeks_ahead),
    )
    installations = Installations(store, TokenCipher(settings.master_keys))
    return SlackWork(installations, journal, settings.slack.api_url, settings.public_url)


@actor(SLACK_ACTOR, SLACK_QUEUE, broker, max_retries=5, min_backoff=1_000, time_limit=120_000)
def slack_task(kind: str, payload: dict[str, Any]) -> None:
    """Run one Slack task; Slack or database failures raise and Dramatiq retries."""
    slack_work().run(kind, payload)
