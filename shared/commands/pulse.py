"""The anonymous pulse: one response per person, team and pulse period, linked to nobody."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import select

from shared.commands.base import Actor, append
from shared.commands.journal_core import JournalCore, check_in_span, organisation_span
from shared.commands.settings import pulse_cadence
from shared.directory import TeamMember
from shared.domain.errors import Conflict, Forbidden, InvalidInput
from shared.domain.weeks import (
    InvalidIsoWeek,
    iso_week_of,
    next_pulse_period,
    parse_iso_week,
    pulse_period,
)
from shared.eventlog import AppendResult, IdempotencyConflict, NewEvent
from shared.security import keyed_hash


class PulseCommands(JournalCore):
    """Answering the pulse (part of :class:`shared.commands.journal.JournalCommands`)."""

    def submit_pulse(
        self,
        actor: Actor,
        answers: Mapping[str, int],
        team_id: uuid.UUID | None = None,
        week: str | None = None,
        now: datetime | None = None,
    ) -> AppendResult:
        """One anonymous response per person, team and ISO week.

        Neither the event nor its metadata names the person: the only link is a keyed hash
        (``COMPOUND_SECRET_KEY``) of person, team and week, which makes a second response
        from the same person a conflict.

        Parameters:
            actor: the employee answering.
            answers: pulse item -> score (1..7), checked by the caller's schema.
            team_id: the team answered for; None when the actor belongs to exactly one.
            week: the ISO week answered for (default: this week).
            now: the current time (default: the clock).

        Returns:
            The append result of the ``PulseResponseSubmitted`` event.

        Raises:
            InvalidInput: the week lies outside the organisation's span (from its creation
                minus two years) or has not started, or the team is needed and missing.
            Forbidden: the actor is not a person, or not a member of ``team_id``.
            Conflict: the actor has answered this pulse period already.
        """
        now = now or datetime.now(UTC)
        me = self._me(actor)
        week = week or iso_week_of(now)
        try:
            parse_iso_week(week)
        except InvalidIsoWeek as err:
            raise InvalidInput(str(err), {"week": [str(err)]}) from None
        with self.store.engine.connect() as conn:
            check_in_span("week", "week", week, organisation_span(conn, actor.tenant_id, now))
            cadence = pulse_cadence(conn, actor.tenant_id)
        if parse_iso_week(week) > parse_iso_week(iso_week_of(now)):
            raise InvalidInput("that week has not started", {"week": ["Answer for this week."]})
        team_id = self._pulse_team(actor, me, team_id)
        period = pulse_period(week, cadence)  # the week itself when the pulse is weekly
        responder = keyed_hash(self.secret_key, "pulse", str(me), str(team_id), period)
        anonymous = Actor(tenant_id=actor.tenant_id, person_id=None, source="pulse")
        try:
            with self.store.engine.begin() as conn:
                result = append(
                    self.store,
                    conn,
                    anonymous,
                    f"pulse-{team_id}-{week}",
                    [
                        NewEvent(
                            "PulseResponseSubmitted",
                            {
                                "team_id": str(team_id),
                                "week": week,
                                "responder_hash": responder,
                                "answers": dict(answers),
                            },
                            occurred_at=now.replace(hour=0, minute=0, second=0, microsecond=0),
                        ),
                    ],
                    key=f"pulse:{responder}",
                )
        except IdempotencyConflict:
            if cadence == 1:
                raise Conflict("you have answered this week's pulse already") from None
            raise Conflict(
                f"you have answered this pulse already: it runs every {cadence} weeks, "
                f"the next one opens in week {next_pulse_period(week, cadence)}"
            ) from None
        self.on_appended(frozenset({"PulseResponseSubmitted"}))
        return result

    def _pulse_team(self, actor: Actor, me: uuid.UUID, team_id: uuid.UUID | None) -> uuid.UUID:
        with self.store.engine.connect() as conn:
            teams = set(
                conn.execute(
                    select(TeamMember.team_id).where(
                        TeamMember.person_id == me, TeamMember.tenant_id == actor.tenant_id
                    )
                ).scalars()
            )
        if team_id is None:
            if len(teams) != 1:
                raise InvalidInput(
                    "choose a team",
                    {
                        "team_id": [
                            "You belong to several teams (or none): say which team this is for."
                        ]
                    },
                )
            return next(iter(teams))
        if team_id not in teams:
            raise Forbidden("you can answer the pulse only for your own teams")
        return team_id
