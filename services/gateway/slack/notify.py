"""What the gateway hands the Slack worker after a write: a feedback request naming a
colleague is also asked in Slack, by direct message, when that colleague linked an account."""

from __future__ import annotations

import logging

from services.gateway.slack.services import enqueue, installations, slack_settings
from shared.commands.verification import named_in
from shared.eventlog import RecordedEvent

log = logging.getLogger("compound.slack")


def offer_in_slack(kind: str, item: RecordedEvent) -> None:
    """Send the named colleague a feedback request's question with answer buttons, in each
    workspace where they linked an account; log, never raise (the mail went anyway).

    Parameters:
        kind: ``outcome``, ``action`` or ``feedback`` (only feedback is asked in Slack yet).
        item: the item's event.
    """
    named = named_in(kind, item.data)
    if kind != "feedback" or named is None or named.person_id is None:
        return
    if not slack_settings().enabled:
        return
    try:
        for link in installations().links_of_person(named.person_id):
            if link.tenant_id != item.tenant_id:
                continue
            enqueue(
                "feedback_ask",
                {
                    "team_id": link.team_id,
                    "user_id": link.slack_user_id,
                    "tenant_id": str(item.tenant_id),
                    "owner": str(item.data["person_id"]),
                    "request_id": str(item.data["request_id"]),
                },
            )
    except Exception:  # the request is written; the link in the mail still answers it
        log.exception("feedback request not offered in Slack")
