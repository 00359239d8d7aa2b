"""The anonymous pulse: one response per person, team and pulse period, linked to nobody.

An answer does not enter the log when it is given. It is marked and parked, sealed, in the
pulse vault (shared/pulses/vault.py) under a key of the organisation and period, and enters
the log in a shuffled batch: once k answers of the team wait, or when the period closes
(``compound scheduler`` closes due periods and destroys their keys).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import select

from shared.commands.base import Actor
from shared.commands.journal_core import JournalCore, check_in_span, organisation_span
from shared.commands.settings import organisation_settings, pulse_cadence
from shared.directory import TeamMember
from shared.domain.bounds import not_a_week
from shared.domain.errors import N_, Conflict, Forbidden, InvalidInput, Text
from shared.domain.privacy import K_DEFAULT
from shared.domain.weeks import (
    InvalidIsoWeek,
    iso_week_of,
    next_pulse_period,
    parse_iso_week,
    pulse_period,
    week_start,
)
from shared.pulses import PeriodClosed, PulseVault
from shared.settings import Settings


@dataclass(frozen=True)
class PulseReceipt:
    """What answering the pulse did.

    Parameters:
        week: the ISO week answered for.
        closes_at: when the period closes (every waiting answer enters the log then).
        released: answers of the team that entered the log just now (0: this one waits).
    """

    week: str
    closes_at: datetime
    released: int


class PulseCommands(JournalCore):
    """Answering the pulse (part of :class:`shared.commands.journal.JournalCommands`)."""

    pulse_batch_k: int = K_DEFAULT
    """The batch size of an organisation that never set its k (the gateway sets COMPOUND_K)."""

    @property
    def pulse_vault(self) -> PulseVault:
        """The vault of waiting answers and period keys."""
        return PulseVault(self.store)

    def submit_pulse(
        self,
        actor: Actor,
        answers: Mapping[str, int],
        team_id: uuid.UUID | None = None,
        week: str | None = None,
        now: datetime | None = None,
    ) -> PulseReceipt:
        """One anonymous response per person, team and pulse period.

        Nothing written names the person: the marker that makes a second response a
        conflict, the sealed waiting answer and the event's ``responder_hash`` are keyed by
        the organisation's key of the period, destroyed when the period closes.

        Parameters:
            actor: the employee answering.
            answers: pulse item -> score (1..7), checked by the caller's schema.
            team_id: the team answered for; None when the actor belongs to exactly one.
            week: the ISO week answered for (default: this week); a week of the open period.
            now: the current time (default: the clock).

        Returns:
            The receipt: recorded, to enter the log in a batch. A retry with the same
            answers returns the same receipt and writes nothing.

        Raises:
            InvalidInput: the week is not a week of the open pulse period (or lies outside
                the organisation's span), or the team is needed and missing.
            Forbidden: the actor is not a person, or not a member of ``team_id`` (a
                manager does not answer the pulse of the team they lead).
            Conflict: the actor has answered this pulse period otherwise already.
        """
        now = now or datetime.now(UTC)
        me = self._me(actor)
        week = week or iso_week_of(now)
        cadence, k = self._pulse_week(actor, week, now)
        team_id = self._pulse_team(actor, me, team_id)
        period = pulse_period(week, cadence)
        closes_at = datetime.combine(week_start(next_pulse_period(week, cadence)), time(0), UTC)
        vault = self.pulse_vault
        try:
            with self.store.engine.begin() as conn:
                key = vault.period_key(conn, actor.tenant_id, period, closes_at)
                assert key is not None
                outcome = vault.record(conn, key, me, team_id, week, answers)
        except PeriodClosed:
            raise InvalidInput(Text("This pulse has closed."), {"week": [Text(CLOSED)]}) from None
        if outcome == "conflict":
            raise Conflict(_answered_already(week, cadence), kind="pulse-answered")
        released = 0
        if outcome == "new":
            with self.store.engine.begin() as conn:
                released = vault.release(conn, key, team_id, k)
            if released:
                self.on_appended(frozenset({"PulseResponseSubmitted"}))
        return PulseReceipt(week, closes_at, released)

    def pulse_answered(
        self, actor: Actor, team_id: uuid.UUID, week: str, cadence: int | None = None
    ) -> bool:
        """Whether the actor answered this team's pulse in the period holding ``week``.

        Parameters:
            actor: the person.
            team_id: the team.
            week: an ISO week.
            cadence: the organisation's pulse cadence when the caller has read it already
                (None: read here).

        Returns:
            True when they did (and the period is still open).
        """
        me = self._me(actor)
        with self.store.engine.connect() as conn:
            if cadence is None:
                cadence = pulse_cadence(conn, actor.tenant_id)
            period = pulse_period(week, cadence)
            try:
                key = self.pulse_vault.period_key(conn, actor.tenant_id, period)
            except PeriodClosed:
                return False
            return key is not None and self.pulse_vault.answered(conn, key, me, team_id)

    def _pulse_week(self, actor: Actor, week: str, now: datetime) -> tuple[int, int]:
        """Check the week answered for; the cadence and the batch size (k) in force."""
        try:
            parse_iso_week(week)
        except InvalidIsoWeek:
            raise InvalidInput(not_a_week(week), {"week": [not_a_week(week)]}) from None
        with self.store.engine.connect() as conn:
            check_in_span("week", "week", week, organisation_span(conn, actor.tenant_id, now))
            cadence = pulse_cadence(conn, actor.tenant_id)
            defaults = Settings(k_anonymity=self.pulse_batch_k)
            k = organisation_settings(conn, actor.tenant_id, defaults).k
        if parse_iso_week(week) > parse_iso_week(iso_week_of(now)):
            raise InvalidInput(
                Text("That week has not started."), {"week": [Text("Answer for this week.")]}
            )
        if pulse_period(week, cadence) != pulse_period(iso_week_of(now), cadence):
            raise InvalidInput(Text("This pulse has closed."), {"week": [Text(CLOSED)]})
        return cadence, k

    def _pulse_team(self, actor: Actor, me: uuid.UUID, team_id: uuid.UUID | None) -> uuid.UUID:
        """The team answered for: one the actor is a member of, not its manager."""
        with self.store.engine.connect() as conn:
            teams = set(
                conn.execute(
                    select(TeamMember.team_id).where(
                        TeamMember.person_id == me,
                        TeamMember.tenant_id == actor.tenant_id,
                        TeamMember.is_manager.is_(False),
                    )
                ).scalars()
            )
        if team_id is None:
            if len(teams) != 1:
                raise InvalidInput(
                    Text("Choose a team."),
                    {
                        "team_id": [
                            Text(
                                Text(
                                    "You belong to several teams (or none): "
                                    "say which team this is for."
                                )
                            )
                        ]
                    },
                )
            return next(iter(teams))
        if team_id not in teams:
            raise Forbidden(
                Text(
                    "You can answer the pulse only for teams you are a member of "
                    "(not for a team you manage)."
                )
            )
        return team_id


CLOSED = N_("Answer for a week of the open pulse period: earlier periods have closed.")


def _answered_already(week: str, cadence: int) -> str:
    if cadence == 1:
        return Text("You have answered this week's pulse already.")
    return Text(
        "You have answered this pulse already: it runs every %(cadence)d weeks, "
        "the next one opens in week %(week)s.",
        cadence=cadence,
        week=next_pulse_period(week, cadence),
    )
