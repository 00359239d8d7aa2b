"""What the gateway hands the Teams worker after a write: a feedback request naming a
colleague is also asked in Teams, in their personal chat with the bot, when that colleague
linked an account of the organisation."""

from __future__ import annotations

import logging

from services.gateway.msteams.accounts import teams_links
from services.gateway.resources import resources
from shared.commands.verification import named_in
from shared.eventlog import RecordedEvent
from shared.msteams.jobs import send_task

log = logging.getLogger("compound.msteams")


def offer_in_teams(kind: str, item: RecordedEvent) -> None:
    """Queue the question with answer buttons for the named colleague; log, never raise (the
    mail went anyway).

    Parameters:
        kind: ``outcome``, ``action`` or ``feedback`` (only feedback is asked in Teams yet).
        item: the item's event.
    """
    named = named_in(kind, item.data)
    if kind != "feedback" or named is None or named.person_id is None:
        return
    if not resources().settings.msteams.enabled:
        return
    try:
        if any(
            link.tenant_id == item.tenant_id
            for link in teams_links().links_of_person(named.person_id)
        ):
            send_task(
                "feedback_ask",
                {
                    "tenant_id": str(item.tenant_id),
                    "person_id": str(named.person_id),
                    "owner": str(item.data["person_id"]),
                    "request_id": str(item.data["request_id"]),
                },
                resources().broker,
            )
    except Exception:  # the request is written; the link in the mail still answers it
        log.exception("feedback request not offered in Teams")
