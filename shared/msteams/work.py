"""What the Teams worker does after the gateway acknowledged an activity: answer a user it
does not know with a link, show the log card, log its submission through the journal command
the portal uses, take a feedback answer, unlink; and send proactive messages (a feedback
request) in the personal conversation kept for the person (never in a channel or group chat).

A task may run twice (Dramatiq redelivers after a crash): logging carries an idempotency key
made of the activity id, so the journal appends once, and a feedback request takes one answer.
Every message and card is written in the language of the person it goes to
(:func:`shared.chat.locale.chat_locale`; the activity's ``locale`` stands for the browser's).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from shared.chat.locale import chat_locale
from shared.chat.messages import logged, thanks
from shared.chat.modal import LoggedAction
from shared.commands import Actor, JournalCommands
from shared.directory.callers import Caller, active_person
from shared.domain.errors import Conflict, DomainError
from shared.domain.verification import Witness
from shared.eventlog import AppendContext
from shared.i18n import gettext, use_locale
from shared.msteams.cards import (
    LOG,
    digest_card,
    feedback_card,
    link_card,
    log_card,
    message,
    read_feedback,
    read_log,
)
from shared.msteams.connector import Connector
from shared.msteams.digests import TeamsDigests
from shared.msteams.link_tokens import LinkRequest, link_token
from shared.msteams.links import ConversationRef, TeamsLinks

log = logging.getLogger("compound.msteams")
UNLINK = "unlink"


@dataclass
class TeamsWork:
    """Runs the Teams tasks of :mod:`shared.msteams.jobs`.

    Parameters:
        links: links and conversation references.
        journal: the journal commands (the portal's and the API's).
        connector: the Connector API client (the bot's token).
        secret_key: signs the "link your account" links.
        public_url: the portal's address.
    """

    links: TeamsLinks
    journal: JournalCommands
    connector: Connector
    secret_key: str
    public_url: str = "http://127.0.0.1:8000"

    def run(self, kind: str, payload: dict[str, Any]) -> None:
        """Do one task.

        Raises:
            shared.msteams.connector.ConnectorError, OSError: the Connector failed (Dramatiq
                retries).
        """
        with use_locale(self.locale_for(payload)):
            getattr(self, f"_{kind}")(payload)

    def locale_for(self, payload: dict[str, Any]) -> str:
        """The language of a task's messages: that of the person they go to (a task's
        ``person_id``, else the person the Teams user is linked to), else their client's."""
        person, tenant = payload.get("person_id"), payload.get("tenant_id")
        if person is None and payload.get("aad_object_id"):
            link = self.links.link_of(
                str(payload.get("aad_tenant_id", "")), str(payload["aad_object_id"])
            )
            if link is not None:
                person, tenant = link.person_id, link.tenant_id
        return chat_locale(
            self.journal.store.engine,
            uuid.UUID(str(tenant)) if tenant else None,
            uuid.UUID(str(person)) if person else None,
            payload.get("locale"),
        )

    def say(self, ref: ConversationRef, activity: dict[str, Any]) -> None:
        """Send a message in the person's personal conversation with the bot."""
        self.connector.send(ref.service_url, ref.conversation_id, activity)

    def _caller(self, aad_tenant_id: str, aad_object_id: str) -> Caller | None:
        link = self.links.link_of(aad_tenant_id, aad_object_id)
        caller = active_person(self.journal.store.engine, link.person_id) if link else None
        if link is None or caller is None or caller.tenant_id != link.tenant_id:
            return None
        return caller

    def _activity(self, payload: dict[str, Any]) -> None:
        """A message from a user in their personal conversation with the bot."""
        ref = ConversationRef(
            payload["aad_tenant_id"],
            payload["aad_object_id"],
            payload["user_id"],
            payload["bot_id"],
            payload["conversation_id"],
            payload["service_url"],
        )
        if not ref.aad_tenant_id or not ref.aad_object_id:
            return  # not a user of an organisation's directory (a guest, an anonymous user)
        self.links.remember(ref)
        caller = self._caller(ref.aad_tenant_id, ref.aad_object_id)
        value = payload.get("value") or {}
        if caller is None:
            self._link_prompt(ref)
        elif value.get("action") == LOG:
            self._log_action(ref, caller, payload["id"], value)
        elif read_feedback(value) is not None:
            self._feedback_answer(ref, caller, value)
        elif payload.get("text", "").strip().casefold() == UNLINK:
            self._unlink(ref)
        else:
            self.say(ref, message(gettext("Log a micro-action"), log_card()))

    def _link_prompt(self, ref: ConversationRef) -> None:
        member = self.connector.member(ref.service_url, ref.conversation_id, ref.user_id)
        email = str(member.get("email") or member.get("userPrincipalName") or "")
        if not email or member.get("aadObjectId") != ref.aad_object_id:
            text = gettext("Compound cannot link this Teams account: it has no e-mail address.")
            self.say(ref, message(text))
            return
        request = LinkRequest(
            ref.aad_tenant_id, ref.aad_object_id, email, str(member.get("name") or email)
        )
        url = f"{self.public_url}/msteams/link/{link_token(self.secret_key, request)}"
        self.say(ref, link_card(url))

    def _log_action(
        self, ref: ConversationRef, caller: Caller, activity_id: str, value: dict[str, Any]
    ) -> None:
        checked = read_log(value)
        if not isinstance(checked, LoggedAction):
            said = gettext("Nothing was logged: see the card.")
            self.say(ref, message(said, log_card(value, checked)))
            return
        actor = Actor(
            tenant_id=caller.tenant_id,
            person_id=caller.person_id,
            role=caller.role,
            managed_teams=frozenset(caller.managed_teams),
            idempotency_key=f"msteams-activity:{activity_id}",
            source="msteams",
        )
        try:
            written = self.journal.log_action(
                actor, checked.tactic, checked.minutes, checked.audience, checked.note
            )
        except DomainError as err:  # the person's to fix: retrying would not help
            self.say(ref, message(gettext("Nothing was logged: %(reason)s", reason=err.detail)))
            return
        if not written.result.replayed:
            self.say(ref, message(logged(checked.tactic, checked.minutes)))

    def _feedback_answer(self, ref: ConversationRef, caller: Caller, value: dict[str, Any]) -> None:
        """A click on "Useful" / "Not useful": the named colleague's confirmed answer."""
        click = read_feedback(value)
        assert click is not None
        try:
            self.journal.give_feedback(
                caller.tenant_id,
                click.owner,
                click.request_id,
                click.useful,
                witness=Witness(caller.tenant_id, caller.person_id, caller.email),
            )
        except Conflict:  # answered already (a second click, a retry): the first one counts
            return
        except DomainError as err:
            said = gettext("Your answer was not recorded: %(reason)s", reason=err.detail)
            self.say(ref, message(said))
            return
        self.say(ref, message(thanks(click.useful)))

    def _unlink(self, ref: ConversationRef) -> None:
        link = self.links.link_of(ref.aad_tenant_id, ref.aad_object_id)
        if link is None:
            return
        context = AppendContext(actor=str(link.person_id), source="msteams")
        if self.links.unlink(link, "teams", context):
            self.say(ref, message(gettext("Your Teams account is no longer linked to Compound.")))

    def _feedback_ask(self, payload: dict[str, Any]) -> None:
        """Ask the colleague a feedback request names, in their personal conversation."""
        tenant_id, owner = uuid.UUID(payload["tenant_id"]), uuid.UUID(payload["owner"])
        request_id, colleague = uuid.UUID(payload["request_id"]), uuid.UUID(payload["person_id"])
        try:
            asked, answer = self.journal.feedback_request(tenant_id, owner, request_id)
        except DomainError:  # expired, or gone
            return
        if answer is not None:
            return
        asker = self.journal.person_of(tenant_id, owner)
        name = (asker.display_name if asker else None) or gettext("A colleague")
        for link in self.links.links_of_person(colleague):
            ref = self.links.conversation_of(link)
            if link.tenant_id == tenant_id and ref is not None:
                self.say(ref, feedback_card(name, asked.data["question"], owner, request_id))

    def _digest(self, payload: dict[str, Any]) -> None:
        """The weekly digest, once: under the claim of its row (shared/msteams/digests.py),
        in the person's personal conversation with the bot. A 429 is waited out; a failure
        leaves it queued."""
        person_id, week = uuid.UUID(payload["person_id"]), str(payload["week"])
        with TeamsDigests(self.links.store).claim(person_id, week) as claim:
            if claim is None:  # sent, dropped, or in another worker's hands
                return
            ref = next(
                (
                    found
                    for link in self.links.links_of_person(person_id)
                    if link.tenant_id == claim.tenant_id
                    and (found := self.links.conversation_of(link)) is not None
                ),
                None,
            )
            if ref is None:  # unlinked since it was queued
                claim.done("dropped")
                return
            self.say(ref, digest_card(claim.digest, self.public_url, claim.answers_pulse()))
            claim.done()
