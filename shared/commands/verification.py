"""Verification: the person or address an item names confirms (or declines) it.

An outcome may name a confirmer, a relationship action its counterpart, a feedback request
its colleague (:mod:`shared.domain.verification`). Only that party's answer counts as proof:
logged in as the named person, or holding a link mailed to the named address. The owner
never confirms their own item. One answer per item: the same answer again is idempotent,
another one is a conflict.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from shared.commands.base import Actor, append
from shared.commands.journal_core import JournalCore, Written
from shared.directory import Person
from shared.domain.errors import (
    N_,
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    Text,
    Unauthorized,
)
from shared.domain.verification import RELATIONSHIP_TACTICS, Named, Witness, names, same_address
from shared.eventlog import (
    AppendResult,
    ConcurrencyError,
    IdempotencyConflict,
    NewEvent,
    RecordedEvent,
)
from shared.eventlog.named_items import find_named

CONFIRMABLE = {
    "outcome": ("OutcomeRecorded", "OutcomeConfirmed", "outcome_id"),
    "action": ("MicroActionLogged", "ActionConfirmed", "action_id"),
}
"""Item kind -> (the event naming the party, the confirmation event, the id field)."""

_NOT_WAITING = {
    "action": N_("No such action waits for your confirmation."),
    "outcome": N_("No such outcome waits for your confirmation."),
}
_SOMEONE_ELSE = {
    "action": N_("This action names someone else to confirm it."),
    "outcome": N_("This outcome names someone else to confirm it."),
}
_ANSWERED = {
    "action": N_("This action has been answered already."),
    "outcome": N_("This outcome has been answered already."),
}
_RELATIONSHIP_TACTICS = ", ".join(sorted(RELATIONSHIP_TACTICS))
ANSWER_ATTEMPTS = 5
"""How often an answer looks again when the owner's stream moved on while it was written."""

PARTY_FIELDS = {
    "outcome": ("confirmer_id", "confirmer_email"),
    "action": ("counterpart_id", None),
    "feedback": ("colleague_id", "colleague_email"),
}
"""Item kind -> the event fields naming its party (by person id, by address)."""


def named_in(kind: str, data: dict[str, Any]) -> Named | None:
    """The party an item's event names.

    Parameters:
        kind: ``outcome``, ``action`` or ``feedback``.
        data: the event's (decrypted) payload.

    Returns:
        The party, or None when the item names nobody.
    """
    by_id, by_address = PARTY_FIELDS[kind]
    person = data.get(by_id)
    email = data.get(by_address) if by_address else None
    if person:
        return Named(person_id=uuid.UUID(str(person)))
    return Named(email=email) if email else None


@dataclass(frozen=True)
class Colleague:
    """What a confirmation needs of a person of the organisation: where to mail, a name."""

    email: str | None
    display_name: str | None


def split_party(party: uuid.UUID | str | None) -> tuple[uuid.UUID | None, str | None]:
    """A named party as (person id, address): the API's ``confirmer``/``colleague`` field
    holds one or the other.

    Parameters:
        party: a person id, an e-mail address, or None.

    Returns:
        ``(person_id, None)``, ``(None, email)`` or ``(None, None)``.
    """
    if isinstance(party, uuid.UUID):
        return party, None
    return None, party


class VerificationCommands(JournalCore):
    """Naming a party on an item, and the party's confirmation (part of
    :class:`shared.commands.journal.JournalCommands`)."""

    def person_of(self, tenant_id: uuid.UUID, person_id: uuid.UUID) -> Colleague | None:
        """A person of the organisation who has not left or been erased.

        Parameters:
            tenant_id: the organisation.
            person_id: the person.

        Returns:
            Their address and name, or None.
        """
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(Person.email, Person.display_name).where(
                    Person.id == person_id,
                    Person.tenant_id == tenant_id,
                    Person.status.in_(("active", "invited")),
                )
            ).first()
        return None if row is None else Colleague(row.email, row.display_name)

    def name_party(
        self, actor: Actor, kind: str, person_id: uuid.UUID | None, email: str | None
    ) -> dict[str, Any]:
        """The event fields naming an item's party, checked.

        Parameters:
            actor: the item's owner.
            kind: ``outcome``, ``action`` or ``feedback``.
            person_id: a person of the actor's organisation, or None.
            email: an address (someone outside), or None.

        Returns:
            The fields to add to the item's event (empty when nobody is named).

        Raises:
            InvalidInput: both given; the person is not of the organisation, or is the actor;
                the address is the actor's own.
        """
        by_id, by_address = PARTY_FIELDS[kind]
        field = {"outcome": "confirmer", "action": "counterpart", "feedback": "colleague"}[kind]
        me = self._me(actor)
        if person_id is not None and email is not None:
            raise InvalidInput(
                Text("Name one person."), {field: [Text("Give a person or an address.")]}
            )
        if person_id is not None:
            if person_id == me or self.person_of(actor.tenant_id, person_id) is None:
                raise InvalidInput(
                    Text("Name a colleague of your organisation."),
                    {field: [Text("Name a colleague of your organisation.")]},
                )
            return {by_id: str(person_id)}
        if email is not None and by_address is not None:
            mine = self.person_of(actor.tenant_id, me)
            if mine is not None and same_address(mine.email, email):
                raise InvalidInput(
                    Text("You cannot name yourself."),
                    {field: [Text("Name someone other than yourself.")]},
                )
            return {by_address: email.strip()}
        return {}

    def check_counterpart(self, tactic: str, counterpart: uuid.UUID | None) -> None:
        """Refuse a counterpart on an action that is not a relationship action.

        Raises:
            InvalidInput: ``counterpart`` is given and ``tactic`` is not a relationship one.
        """
        if counterpart is not None and tactic not in RELATIONSHIP_TACTICS:
            raise InvalidInput(
                Text("Only relationship actions have a counterpart."),
                {"counterpart": [Text("Only for %(tactics)s.", tactics=_RELATIONSHIP_TACTICS)]},
            )

    def confirmable(self, tenant_id: uuid.UUID, kind: str, item: uuid.UUID) -> RecordedEvent:
        """The event of an item that names a party, in the witness's organisation.

        Parameters:
            tenant_id: the organisation.
            kind: ``outcome`` or ``action``.
            item: the outcome's or action's id.

        Returns:
            The ``OutcomeRecorded`` or ``MicroActionLogged`` event.

        Raises:
            NotFound: no such item in the organisation, or it names nobody.
            Gone: the action was undone.
        """
        named_type = CONFIRMABLE[kind][0]
        with self.store.engine.connect() as conn:
            event = find_named(self.store, conn, tenant_id, named_type, item)
        if event is None or named_in(kind, event.data) is None:  # an import's explicit null
            raise NotFound(Text(_NOT_WAITING[kind]))
        if kind == "action" and self.store.find(
            f"journal-{event.data['person_id']}", "MicroActionRetracted", {"action_id": str(item)}
        ):
            raise Gone(Text("This action was undone: there is nothing to confirm."), kind="undone")
        return event

    def confirmation(self, kind: str, item: RecordedEvent) -> RecordedEvent | None:
        """The answer given to an item, if any (its first and only confirmation event)."""
        _, confirm_type, id_field = CONFIRMABLE[kind]
        return self.store.find(
            f"journal-{item.data['person_id']}", confirm_type, {id_field: item.data[id_field]}
        )

    def confirm(
        self,
        witness: Witness,
        kind: str,
        item_id: uuid.UUID,
        confirmed: bool,
        single_use: bool = False,
    ) -> Written:
        """The named party confirms (or declines) an outcome or a relationship action.

        Parameters:
            witness: who answers (a logged-in person, or a mailed link's address).
            kind: ``outcome`` or ``action``.
            item_id: the item's id.
            confirmed: True to confirm, False to decline.
            single_use: a link's answer: any earlier answer refuses it (a replay).

        Returns:
            The item's id and the append result (``replayed`` for the same answer again).

        Raises:
            NotFound: no such item naming anyone in the witness's organisation.
            Forbidden: the item names someone else.
            Conflict: answered otherwise already, or a link used again.
        """
        item = self.confirmable(witness.tenant_id, kind, item_id)
        owner = uuid.UUID(item.data["person_id"])
        named = named_in(kind, item.data)
        if named is None or not names(named, witness, owner):
            raise Forbidden(Text(_SOMEONE_ELSE[kind]))
        _, confirm_type, id_field = CONFIRMABLE[kind]
        event = NewEvent(
            confirm_type,
            {id_field: str(item_id), "person_id": str(owner), "confirmed": confirmed},
        )
        actor = Actor(witness.tenant_id, witness.person_id, source="confirmation")
        try:
            answer, result = self.append_first(
                actor,
                f"journal-{owner}",
                event,
                f"confirm-{kind}:{item_id}",
                lambda: self.confirmation(kind, item),
            )
        except IdempotencyConflict:
            raise Conflict(Text(_ANSWERED[kind]), kind="answered-already") from None
        if answer is not None:
            if single_use or answer.data["confirmed"] != confirmed:
                raise Conflict(Text(_ANSWERED[kind]), kind="answered-already")
            same = AppendResult((answer.position,), (answer.event_id,), answer.version, True)
            return Written(item_id, same)
        assert result is not None
        if not result.replayed:
            self.on_appended(frozenset({confirm_type}))
        return Written(item_id, result)

    def append_first(
        self,
        actor: Actor,
        stream: str,
        event: NewEvent,
        key: str,
        earlier: Callable[[], RecordedEvent | None],
    ) -> tuple[RecordedEvent | None, AppendResult | None]:
        """Append an answer unless ``earlier`` finds one: both against one stream version.

        Two answers of different people (a link's holder, a logged-in person) carry different
        idempotency scopes, so the key alone would not stop the second: the append expects
        the version read before looking, and looks again when the stream moved on.

        Parameters:
            actor: who answers.
            stream: the owner's journal stream.
            event: the answer.
            key: the append's idempotency key.
            earlier: finds an earlier answer in the stream, or None.

        Returns:
            ``(earlier answer, None)``, or ``(None, the append's result)``.

        Raises:
            IdempotencyConflict: the key was used with another answer.
            Conflict: the stream kept moving (:data:`ANSWER_ATTEMPTS` times).
        """
        for _ in range(ANSWER_ATTEMPTS):
            version = self.store.stream_version(stream)
            found = earlier()
            if found is not None:
                return found, None
            try:
                with self.store.engine.begin() as conn:
                    return None, append(
                        self.store, conn, actor, stream, [event],
                        expected_version=version, key=key,
                    )  # fmt: skip
            except ConcurrencyError:
                continue  # the owner wrote meanwhile, or someone answered: look again
        raise Conflict(Text("The journal kept changing: try again."), kind="concurrency")

    def feedback_confirms(self, asked: RecordedEvent, witness: Witness | None) -> bool:
        """Whether an answer to a feedback request is the named colleague's (proof).

        Parameters:
            asked: the ``FeedbackRequested`` event.
            witness: who answers; None for an anonymous link's holder.

        Returns:
            True when the request names a colleague and the witness is them; False for a
            request naming nobody (anyone with its link answers, unconfirmed).

        Raises:
            Forbidden: the witness is the asker, or not the colleague named.
            Unauthorized: the request names a colleague and the witness is unknown.
        """
        owner = uuid.UUID(asked.data["person_id"])
        if witness is not None and witness.person_id == owner:
            raise Forbidden(Text("You cannot answer your own question."))
        named = named_in("feedback", asked.data)
        if named is None:
            return False
        if witness is None:
            raise Unauthorized(
                Text("Log in as the colleague asked, or use the link mailed to them.")
            )
        if not names(named, witness, owner):
            raise Forbidden(Text("This question was asked of someone else."))
        return True
