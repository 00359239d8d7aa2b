"""Person capital's evidence beside actions and outcomes (model 2): confirmations, the
feedback requests that name an action, and declared absences.

Each event's effect is written once, here, on plain records that both catch-up and a
rebuild fold (:class:`Evidence`, held by :class:`~shared.projections.capital.state.CapitalState`):

- ``ActionConfirmed``, and ``FeedbackGiven`` answered ``useful`` by the colleague a request
  naming an action named (``confirmed``), set the action's ``confirmed`` flag on every row
  of it logged so far; ``OutcomeConfirmed`` that of the outcome. The latest answer wins.
  Rows stored before a batch are updated by catch-up from :attr:`Evidence.stored_actions`
  and :attr:`Evidence.stored_outcomes` (the latest value of the batch).
- ``FeedbackRequested`` naming an action is kept (``capital_requests``) for its answer,
  which may come in a later batch.
- ``AbsenceDeclared`` / ``AbsenceWithdrawn`` keep the person's absences
  (``capital_absences``): ages in scoring skip them.

All these events are in the person's own stream, so a rebuild's per-person chunks hold them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ActionKey = tuple[str, str]
EVIDENCE_KINDS = frozenset(
    {
        "ActionConfirmed",
        "OutcomeConfirmed",
        "FeedbackRequested",
        "FeedbackGiven",
        "AbsenceDeclared",
        "AbsenceWithdrawn",
    }
)
REQUEST_COLUMNS = "event_id, tenant_id, person_id, request_id, action_id, model_version"
ABSENCE_COLUMNS = "tenant_id, person_id, absence_id, starts_on, ends_on, model_version"


@dataclass(slots=True)
class Evidence:
    """Confirmations, requests and absences folded in memory (a batch's or the log's).

    Attributes:
        version: the model version written in every row.
        requests: (person, request id) -> the action it names (this state's, and those
            catch-up loaded for the batch's answers).
        request_lines: the requests naming an action, as ``capital_requests`` COPY lines.
        actions: (person, action id) -> the latest confirmation (True) or decline (False).
        outcomes: (person, outcome id) -> the same for outcomes.
        absences: (person, absence id) -> its ``capital_absences`` COPY line, or None once
            withdrawn.
    """

    version: int = 0
    requests: dict[ActionKey, str] = field(default_factory=dict)
    request_lines: list[str] = field(default_factory=list)
    actions: dict[ActionKey, bool] = field(default_factory=dict)
    outcomes: dict[ActionKey, bool] = field(default_factory=dict)
    absences: dict[ActionKey, str | None] = field(default_factory=dict)

    def add(self, kind: str, event_id: str, tenant: str, data: dict[str, Any]) -> str | None:
        """Fold one evidence event in.

        Parameters:
            kind: the event's type (one of :data:`EVIDENCE_KINDS`).
            event_id, tenant: the event's id and tenant, as text.
            data: its payload.

        Returns:
            The id of the action it confirms (or declines), if any: the caller flags the
            action's rows.
        """
        person = data["person_id"]
        if kind == "ActionConfirmed":
            self.actions[(person, data["action_id"])] = data["confirmed"]
            return str(data["action_id"])
        if kind == "FeedbackGiven":
            action = self.requests.get((person, data["request_id"]))
            if action is not None and data["useful"] and data.get("confirmed"):
                self.actions[(person, action)] = True
                return action
            return None
        if kind == "OutcomeConfirmed":
            self.outcomes[(person, data["outcome_id"])] = data["confirmed"]
        elif kind == "FeedbackRequested":
            if action := data.get("action_id"):
                self.requests[(person, data["request_id"])] = action
                self.request_lines.append(
                    f"{event_id}\t{tenant}\t{person}\t{data['request_id']}\t{action}\t"
                    f"{self.version}\n"
                )
        elif kind == "AbsenceDeclared":
            self.absences[(person, data["absence_id"])] = (
                f"{tenant}\t{person}\t{data['absence_id']}\t{data['starts_on']}\t"
                f"{data['ends_on']}\t{self.version}\n"
            )
        else:  # AbsenceWithdrawn
            self.absences[(person, data["absence_id"])] = None
        return None

    def absence_lines(self) -> list[str]:
        """The absences still declared, as ``capital_absences`` COPY lines."""
        return [line for line in self.absences.values() if line is not None]
