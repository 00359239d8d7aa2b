"""What the Slack worker does after the gateway acknowledged Slack: open the modal, log the
submitted action through the journal command the portal uses, unlink, and answer by direct
message (never in a channel: docs/chat.md, "Privacy").

A task may run twice (Dramatiq redelivers after a crash; Slack retries a request): logging
carries an idempotency key made of the modal's view id, so the journal appends once. Every
message, view and modal is written in the language of the person it goes to
(:func:`shared.chat.locale.chat_locale`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from shared.chat.digest_message import digest_message
from shared.chat.digests import SlackDigests
from shared.chat.home import home_view, link_view, next_suggestion
from shared.chat.installations import Installation, Installations
from shared.chat.locale import chat_locale
from shared.chat.messages import feedback_message, logged, thanks
from shared.chat.modal import LoggedAction, log_modal
from shared.commands import Actor, JournalCommands
from shared.directory.callers import active_person
from shared.domain.errors import Conflict, DomainError
from shared.domain.nudges import employee_nudges
from shared.domain.verification import Witness
from shared.domain.weeks import iso_week_of
from shared.eventlog import AppendContext
from shared.i18n import gettext, use_locale
from shared.projections.capital import read_capital
from shared.projections.journal import read_plan

log = logging.getLogger("compound.slack")
RATE_LIMIT_RETRIES = 5
"""How many 429s in a row one Web API call waits out (each for its ``Retry-After``)."""


def web_client(token: str | None, api_url: str) -> WebClient:
    """A Slack Web API client that waits out rate limits (429 with ``Retry-After``).

    Parameters:
        token: a bot token, or None (``oauth.v2.access`` authenticates with the client id).
        api_url: the Web API's base URL (Slack's, or the stand-in's).

    Returns:
        The client.
    """
    return WebClient(
        token=token,
        base_url=api_url,
        timeout=10,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
    )


@dataclass
class SlackWork:
    """Runs the Slack tasks of :mod:`shared.chat.jobs`.

    Parameters:
        installations: workspaces and links.
        journal: the journal commands (the portal's and the API's).
        api_url: the Slack Web API's base URL.
        public_url: the portal's address (links in messages).
    """

    installations: Installations
    journal: JournalCommands
    api_url: str
    public_url: str = "http://127.0.0.1:8000"

    def run(self, kind: str, payload: dict[str, Any]) -> None:
        """Do one task; an unknown workspace (uninstalled since) drops it.

        Raises:
            slack_sdk.errors.SlackApiError, OSError: Slack failed (Dramatiq retries).
        """
        installation = self.installations.get(str(payload["team_id"]))
        if installation is None:
            log.info("slack task %s for a workspace no longer installed: dropped", kind)
            return
        with use_locale(self.locale_for(installation, payload)):
            getattr(self, f"_{kind}")(installation, payload)

    def locale_for(self, installation: Installation, payload: dict[str, Any]) -> str:
        """The language of a task's messages: that of the person they go to (a digest's
        ``person_id``, else the person the Slack user is linked to), else the workspace's
        organisation's default."""
        person = payload.get("person_id")
        if person is None and payload.get("user_id"):
            link = self.installations.link_of(installation.team_id, str(payload["user_id"]))
            person = link.person_id if link else None
        person_id = uuid.UUID(str(person)) if person else None
        return chat_locale(self.journal.store.engine, installation.tenant_id, person_id)

    def client(self, installation: Installation) -> WebClient:
        return web_client(installation.bot_token, self.api_url)

    def direct_message(
        self,
        installation: Installation,
        user_id: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        """Send ``text`` (and ``blocks``) to the user alone, in the app's direct-message
        conversation with them: never in a channel."""
        client = self.client(installation)
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        client.chat_postMessage(channel=channel, text=text, blocks=blocks)

    def _open_modal(self, installation: Installation, payload: dict[str, Any]) -> None:
        view = log_modal(payload.get("note"))
        self.client(installation).views_open(trigger_id=payload["trigger_id"], view=view)

    def _log_action(self, installation: Installation, payload: dict[str, Any]) -> None:
        user_id = str(payload["user_id"])
        link = self.installations.link_of(installation.team_id, user_id)
        caller = active_person(self.journal.store.engine, link.person_id) if link else None
        if link is None or caller is None or caller.tenant_id != installation.tenant_id:
            said = gettext("Nothing was logged: link your account.")
            self.direct_message(installation, user_id, said)
            return
        actor = Actor(
            tenant_id=caller.tenant_id,
            person_id=caller.person_id,
            role=caller.role,
            managed_teams=frozenset(caller.managed_teams),
            idempotency_key=f"slack-view:{payload['view_id']}",
            source="slack",
        )
        action = LoggedAction(
            payload["tactic"], int(payload["minutes"]), payload["audience"], payload.get("note")
        )
        try:
            written = self.journal.log_action(
                actor, action.tactic, action.minutes, action.audience, action.note
            )
        except DomainError as err:  # the person's to fix: retrying would not help
            said = gettext("Nothing was logged: %(reason)s", reason=err.detail)
            self.direct_message(installation, user_id, said)
            return
        if not written.result.replayed:
            self.direct_message(installation, user_id, logged(action.tactic, action.minutes))

    def _feedback_ask(self, installation: Installation, payload: dict[str, Any]) -> None:
        """Ask the colleague a feedback request names, with the answer buttons."""
        tenant_id, owner = uuid.UUID(payload["tenant_id"]), uuid.UUID(payload["owner"])
        request_id = uuid.UUID(payload["request_id"])
        if installation.tenant_id != tenant_id:
            return
        try:
            asked, answer = self.journal.feedback_request(tenant_id, owner, request_id)
        except DomainError:  # expired, or gone
            return
        if answer is not None:
            return
        asker = self.journal.person_of(tenant_id, owner)
        name = (asker.display_name if asker else None) or gettext("A colleague")
        text, blocks = feedback_message(name, asked.data["question"], owner, request_id)
        self.direct_message(installation, str(payload["user_id"]), text, blocks)

    def _feedback_answer(self, installation: Installation, payload: dict[str, Any]) -> None:
        """A click on "Useful" / "Not useful": the named colleague's confirmed answer."""
        user_id = str(payload["user_id"])
        link = self.installations.link_of(installation.team_id, user_id)
        caller = active_person(self.journal.store.engine, link.person_id) if link else None
        if link is None or caller is None or caller.tenant_id != installation.tenant_id:
            return
        useful = bool(payload["useful"])
        try:
            self.journal.give_feedback(
                caller.tenant_id,
                uuid.UUID(payload["owner"]),
                uuid.UUID(payload["request_id"]),
                useful,
                witness=Witness(caller.tenant_id, caller.person_id, caller.email),
            )
        except Conflict:  # answered already (a second click, a retry): the first one counts
            return
        except DomainError as err:
            said = gettext("Your answer was not recorded: %(reason)s", reason=err.detail)
            self.direct_message(installation, user_id, said)
            return
        self.direct_message(installation, user_id, thanks(useful))

    def _digest(self, installation: Installation, payload: dict[str, Any]) -> None:
        """The weekly digest, once: under the claim of its row (shared/chat/digests.py).

        Posted to the Slack user id, which Slack delivers in the app's direct-message
        conversation with them (no ``conversations.open``: a tier 3 method would hold a large
        digest to 50 people a minute). A 429 is waited out; a failure leaves it queued.
        """
        person_id, week = uuid.UUID(payload["person_id"]), str(payload["week"])
        with SlackDigests(self.installations.store).claim(person_id, week) as claim:
            if claim is None:  # sent, dropped, or in another worker's hands
                return
            link = next(
                (
                    found
                    for found in self.installations.links_of_person(person_id)
                    if found.team_id == installation.team_id
                    and found.tenant_id == installation.tenant_id == claim.tenant_id
                ),
                None,
            )
            if link is None:  # unlinked since it was queued
                claim.done("dropped")
                return
            text, blocks = digest_message(claim.digest, self.public_url, claim.answers_pulse())
            self.client(installation).chat_postMessage(
                channel=link.slack_user_id, text=text, blocks=blocks
            )
            claim.done()

    def _app_home(self, installation: Installation, payload: dict[str, Any]) -> None:
        """The person opened the app's Home tab: publish their week for them alone."""
        user_id = str(payload["user_id"])
        link = self.installations.link_of(installation.team_id, user_id)
        caller = active_person(self.journal.store.engine, link.person_id) if link else None
        if link is None or caller is None or caller.tenant_id != installation.tenant_id:
            view = link_view(gettext("Type /compound to link your Slack account to Compound."))
        else:
            now = datetime.now(UTC)
            with self.journal.store.engine.connect() as db:
                plan = read_plan(db, caller.tenant_id, caller.person_id, iso_week_of(now))
                capital = read_capital(db, caller.tenant_id, caller.person_id, now.date())
                db.rollback()
            suggestion = next_suggestion(capital, employee_nudges(capital))
            view = home_view(plan, capital["consistency"], suggestion, self.public_url)
        self.client(installation).views_publish(user_id=user_id, view=view)

    def _uninstall(self, installation: Installation, payload: dict[str, Any]) -> None:
        """Slack says the app left the workspace, or its tokens were revoked."""
        context = AppendContext(actor="system", source="slack")
        self.installations.uninstall(installation.team_id, str(payload["reason"]), context)

    def _unlink(self, installation: Installation, payload: dict[str, Any]) -> None:
        user_id = str(payload["user_id"])
        link = self.installations.link_of(installation.team_id, user_id)
        if link is None:
            return
        context = AppendContext(actor=str(link.person_id), source="slack")
        if self.installations.unlink(link, "slack", context):
            said = gettext("Your Slack account is no longer linked to Compound.")
            self.direct_message(installation, user_id, said)
