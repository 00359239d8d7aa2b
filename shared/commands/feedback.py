"""Micro-feedback: an employee asks a colleague one question through a link; the colleague
answers it once, before the link expires. A request may name the colleague (a person of the
organisation or an address): only their answer counts as confirmed
(:mod:`shared.commands.verification`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from shared.commands.base import Actor
from shared.commands.journal_core import Written
from shared.commands.verification import VerificationCommands, split_party
from shared.domain.errors import N_, Conflict, Gone, NotFound, Text
from shared.domain.verification import Witness
from shared.eventlog import IdempotencyConflict, NewEvent, RecordedEvent

FEEDBACK_DAYS = 14


ANSWERED = N_("This question has been answered already.")


class FeedbackCommands(VerificationCommands):
    """Asking for feedback and answering it (part of
    :class:`shared.commands.journal.JournalCommands`)."""

    def request_feedback(
        self,
        actor: Actor,
        question: str,
        action_id: uuid.UUID | None = None,
        days: int = FEEDBACK_DAYS,
        now: datetime | None = None,
        colleague: uuid.UUID | str | None = None,
    ) -> Written:
        """Ask a colleague a question, optionally about one of the actor's actions.

        Parameters:
            actor: the employee asking.
            question: the question shown behind the link.
            action_id: one of the actor's actions the question is about, or None.
            days: how long the link stays valid.
            now: the current time (default: the clock).
            colleague: the colleague asked, whose answer confirms: a person id of the
                organisation or an address outside it (None: anyone with the link).

        Returns:
            The request's id (the gateway signs it into the link) and the append result.

        Raises:
            Forbidden: the actor is not a person.
            InvalidInput: ``action_id`` is not one of the actor's actions; the colleague is
                the actor or not of the organisation.
        """
        now = now or datetime.now(UTC)
        self._check_my_action(actor, action_id)
        party = self.name_party(actor, "feedback", *split_party(colleague))
        request_id = self._new_id(actor, "feedback")
        return self._journal(
            actor,
            request_id,
            NewEvent(
                "FeedbackRequested",
                {
                    "request_id": str(request_id),
                    "person_id": str(self._me(actor)),
                    "action_id": str(action_id) if action_id else None,
                    "question": question,
                    "expires_at": (now + timedelta(days=days)).isoformat(),
                    **party,
                },
            ),
        )

    def feedback_request(
        self,
        tenant_id: uuid.UUID,
        person_id: uuid.UUID,
        request_id: uuid.UUID,
        now: datetime | None = None,
    ) -> tuple[RecordedEvent, RecordedEvent | None]:
        """The request behind a feedback link and its answer, if any.

        Parameters:
            tenant_id: the organisation named by the link.
            person_id: the employee who asked.
            request_id: the request named by the link.
            now: the current time (default: the clock).

        Returns:
            ``(FeedbackRequested, FeedbackGiven or None)``.

        Raises:
            NotFound: no such request. Gone: it expired.
        """
        now = now or datetime.now(UTC)
        asked = self.store.find(
            f"journal-{person_id}", "FeedbackRequested", {"request_id": str(request_id)}
        )
        if asked is None or asked.tenant_id != tenant_id:
            raise NotFound(Text("This feedback link is not valid."))
        if datetime.fromisoformat(asked.data["expires_at"]) < now:
            raise Gone(Text("This feedback link has expired."))
        answer = self.store.find(
            f"journal-{person_id}", "FeedbackGiven", {"request_id": str(request_id)}
        )
        return asked, answer

    def give_feedback(
        self,
        tenant_id: uuid.UUID,
        person_id: uuid.UUID,
        request_id: uuid.UUID,
        useful: bool,
        comment: str | None = None,
        now: datetime | None = None,
        witness: Witness | None = None,
    ) -> Written:
        """A colleague answers through the link: once per request, before it expires.

        Parameters:
            tenant_id: the organisation named by the link.
            person_id: the employee who asked.
            request_id: the request named by the link.
            useful: the colleague's answer.
            comment: an optional free-text comment.
            now: the current time (default: the clock).
            witness: who answers, when known (logged in, or a link mailed to an address);
                the answer is ``confirmed`` when the request names them.

        Returns:
            The request's id and the append result.

        Raises:
            NotFound: no such request. Gone: it expired.
            Conflict: it has been answered already.
            Forbidden: the witness is the asker.
        """
        asked, answer = self.feedback_request(tenant_id, person_id, request_id, now)
        confirmed = self.feedback_confirms(asked, witness)
        if answer is not None:
            raise Conflict(ANSWERED, kind="answered-already")
        colleague = Actor(
            tenant_id=tenant_id,
            person_id=witness.person_id if witness else None,
            source="feedback-link",
        )
        stream = f"journal-{person_id}"
        given = NewEvent(
            "FeedbackGiven",
            {
                "request_id": str(request_id),
                "person_id": str(person_id),
                "useful": useful,
                "comment": comment,
                "confirmed": confirmed,
            },
        )
        try:
            earlier, result = self.append_first(
                colleague,
                stream,
                given,
                f"feedback-answer:{request_id}",
                lambda: self.store.find(stream, "FeedbackGiven", {"request_id": str(request_id)}),
            )
        except IdempotencyConflict:
            raise Conflict(ANSWERED, kind="answered-already") from None
        if earlier is not None or result is None or result.replayed:
            raise Conflict(ANSWERED, kind="answered-already")
        self.on_appended(frozenset({"FeedbackGiven"}))
        return Written(request_id, result)
