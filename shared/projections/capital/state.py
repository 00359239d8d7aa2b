"""Person capital's state: each event's effect, once, on plain records.

:class:`CapitalState` folds events in memory: catch-up folds each batch into a fresh one
(shared/projections/capital/projection.py writes it with SQL), a rebuild the whole log into
one (written with COPY). Which tactic an outcome credits is decided here too, once for both:
an outcome naming an action at its place in the log (:meth:`CapitalState.add`: the action's
tactic if it stands then, else that of its next logging), one naming none by
:func:`credit_unlinked`, fed by catch-up with the actions it loads and by a rebuild with
those it holds.

Sums are kept in integer millionths (:data:`MICRO`): integer addition is exact and
order-free, so every batching (and a rebuild) yields identical rows; floating-point sums
would differ in the last digits depending on the order of additions.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from shared.copy_format import NULL
from shared.domain.scoring import evidence, raw_investment
from shared.domain.weeks import week_index
from shared.eventlog import RecordedEvent
from shared.projections.capital.evidence import EVIDENCE_KINDS, Evidence

ActionKey = tuple[str, str]
"""(person, action id): an action is its person's own (ids are client-chosen in imports)."""
MICRO = 1_000_000
CREDIT_WINDOW = timedelta(days=14)
"""An outcome without a linked action credits the latest action of the 14 days before it."""


def _micro(values: tuple[float, float, float]) -> tuple[int, int, int]:
    return (round(values[0] * MICRO), round(values[1] * MICRO), round(values[2] * MICRO))


class _Investments(dict[tuple[str, int, str], tuple[int, int, int]]):
    """An action's weighted minutes in millionths by (tactic, minutes, audience), computed
    once (model 2 turns a day's minutes into effort at read time)."""

    def __missing__(self, key: tuple[str, int, str]) -> tuple[int, int, int]:
        value = self[key] = _micro(raw_investment(*key))
        return value


class _InvestmentTexts(dict[tuple[str, int, str], str]):
    """An action's weighted minutes in millionths, its minutes and audience as COPY text
    (``c<TAB>v<TAB>r<TAB>minutes<TAB>audience``), made once."""

    def __missing__(self, key: tuple[str, int, str]) -> str:
        value = self[key] = "\t".join(map(str, (*_INVESTMENTS[key], key[1], key[2])))
        return value


class _Evidence(dict[str, tuple[int, int, int]]):
    """An outcome's evidence in millionths by its kind, computed once."""

    def __missing__(self, kind: str) -> tuple[int, int, int]:
        value = self[kind] = _micro(evidence(kind))
        return value


_INVESTMENTS = _Investments()
_INVESTMENT_TEXTS = _InvestmentTexts()
_EVIDENCE = _Evidence()


@dataclass(slots=True)
class WeekSums:
    """One person's week: investment and returns per dimension (millionths) and counts."""

    inv_c: int = 0
    inv_v: int = 0
    inv_r: int = 0
    ret_c: int = 0
    ret_v: int = 0
    ret_r: int = 0
    actions: int = 0
    visible_actions: int = 0
    outcomes: int = 0

    def columns(self) -> tuple[int, ...]:
        """The sums in the order of the ``capital_weeks`` columns after ``week_index``."""
        return (self.inv_c, self.inv_v, self.inv_r, self.ret_c, self.ret_v, self.ret_r,
                self.actions, self.visible_actions, self.outcomes)  # fmt: skip


class ActionRecord(NamedTuple):
    """A logged action, as crediting sees it (ordered by event time, then position)."""

    at: datetime
    position: int
    tactic: str
    action_id: str
    person: str


@dataclass(slots=True)
class OutcomeRecord:
    """An outcome's contribution; ``tactic`` is filled in by :meth:`CapitalState.add` (an
    outcome naming an action) or :func:`credit_unlinked`."""

    event_id: str
    tenant: str
    person: str
    outcome_id: str
    action_id: str | None  # the action it links to, if any
    kind: str
    week: int
    at: datetime
    c: int
    v: int
    r: int
    position: int
    at_text: str  # ``at`` as the event's ``occurred_at_text``: not formatted again
    tactic: str | None = None
    confirmed: bool = False

    def line(self, version: int) -> str:
        """Its ``capital_contributions`` row in COPY text (ids, numbers, names from fixed
        sets and timestamps: none holds a tab, newline or backslash)."""
        return (
            f"{self.event_id}\t{self.tenant}\t{self.person}\toutcome\t{self.outcome_id}\t"
            f"{self.tactic or NULL}\t{self.kind}\t{self.week}\t{self.at_text}\t"
            f"{self.position}\t{version}\t{self.c}\t{self.v}\t{self.r}\t{NULL}\t{NULL}\t"
            f"{NULL}\t{'t' if self.confirmed else 'f'}\n"
        )

    def pending_line(self) -> str:
        """Its ``capital_pending_links`` row in COPY text: it awaits the action it names."""
        return f"{self.event_id}\t{self.tenant}\t{self.person}\t{self.action_id}\n"


@dataclass(slots=True)
class CapitalState:
    """Capital events folded in memory: one batch's or the whole log's.

    Contribution rows of actions are kept as COPY text once read (``action_lines``, beside
    ``actions``: same index); those of outcomes once their tactic is credited.

    An outcome naming an action credits that action's tactic if the action stands when the
    outcome is appended (logged, and not undone since), or else once it is next logged (an
    import may put an outcome before the action it names): event order decides, never the
    batches, so catch-up and a rebuild credit alike. The credit stays when the action is
    undone afterwards.

    Attributes:
        version: the model version written in every row.
        weeks: (person, week index) -> the week's sums.
        tenants: person -> the tenant of their latest event.
        action_lines, actions: each action logged, as a COPY line and as a record.
        outcomes: each outcome recorded.
        row_of: (person, action id) -> the index in ``actions`` of its latest logging. Actions
            are a person's own: an import's client-chosen id may be another person's too,
            and names their action only (so does a retraction, or an outcome's link).
        retracted_at: (person, action id) -> the position of its latest retraction. An undone action
            is subtracted where it was added; outcomes credited while it stood keep their
            credit, whatever the batches.
        awaiting: (person, action id) -> the outcomes naming it, appended while it did not stand (in
            what this state holds): its next logging credits them. Those left at the end
            are stored (``capital_pending_links``) for a later batch's logging to credit.
        unseen: the outcomes naming an action this state had neither logged nor undone
            before them (also in ``awaiting``): whether it stood then is for the stored
            contributions to say (catch-up); a rebuild holds the whole log, so for it they
            simply await.
        unlinked: the outcomes naming no action, for :func:`credit_unlinked`.
        confirmed: index in ``action_lines`` -> the row's ``confirmed`` flag, for the rows a
            confirmation or decline reached (the others are written unconfirmed).
        outcome_rows: (person, outcome id) -> its rows (an import may record it twice).
        evidence: confirmations, requests and absences (:mod:`.evidence`).
        erased: the people erased: no row keeps them as its counterpart (``projection.py``,
            ``forget_counterparts``).
        named: the counterparts this batch's actions name: catch-up forgets those erased
            in an earlier batch (``forget_erased_counterparts``), as a rebuild does.
    """

    version: int
    weeks: defaultdict[tuple[str, int], WeekSums] = field(
        default_factory=lambda: defaultdict(WeekSums)
    )
    tenants: dict[str, str] = field(default_factory=dict)
    action_lines: list[str] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    outcomes: list[OutcomeRecord] = field(default_factory=list)
    row_of: dict[ActionKey, int] = field(default_factory=dict)
    retracted_at: dict[ActionKey, int] = field(default_factory=dict)
    awaiting: dict[ActionKey, list[OutcomeRecord]] = field(default_factory=dict)
    unseen: list[OutcomeRecord] = field(default_factory=list)
    unlinked: list[OutcomeRecord] = field(default_factory=list)
    week_of_day: dict[date, int] = field(default_factory=dict)
    confirmed: dict[int, bool] = field(default_factory=dict)
    outcome_rows: dict[ActionKey, list[OutcomeRecord]] = field(default_factory=dict)
    evidence: Evidence = field(default_factory=Evidence)
    erased: list[str] = field(default_factory=list)
    named: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.evidence.version = self.version

    def add(self, events: Sequence[RecordedEvent]) -> None:
        """Fold ``events`` (in position order) in: each event's effect on the read model.

        Parameters:
            events: ``MicroActionLogged``, ``MicroActionRetracted``, ``OutcomeRecorded``,
                ``PersonErased`` events (capital rows hold no personal text: an erased
                person's numbers stay for aggregates) and the evidence events
                (:data:`~shared.projections.capital.evidence.EVIDENCE_KINDS`).
        """
        weeks, tenants, weeks_of = self.weeks, self.tenants, self.week_of_day
        lines, outcomes, actions = self.action_lines, self.outcomes, self.actions
        row_of, retracted_at, version = self.row_of, self.retracted_at, self.version
        awaiting, unlinked = self.awaiting, self.unlinked
        investments, texts = _INVESTMENTS, _INVESTMENT_TEXTS
        for e in events:
            kind = e.type
            if kind == "PersonErased":  # no row keeps their id as a counterpart
                self.erased.append(e.data["person_id"])
                continue
            data = e.data
            person = data["person_id"]
            tenant = tenants[person] = e.tenant_id_text
            if kind in EVIDENCE_KINDS:
                self.add_evidence(kind, e.event_id_text, tenant, data)
                continue
            at = e.occurred_at
            day = at.date()
            week = weeks_of.get(day)
            if week is None:
                week = weeks_of[day] = week_index(day)
            sums = weeks[(person, week)]
            if kind == "MicroActionLogged":
                tactic, action = data["tactic"], data["action_id"]
                key_of = (person, action)
                key = (tactic, data["minutes"], data["audience"])
                c, v, r = investments[key]
                sums.inv_c += c
                sums.inv_v += v
                sums.inv_r += r
                sums.actions += 1
                if data["audience"] != "private":
                    sums.visible_actions += 1
                row_of[key_of] = len(lines)
                actions.append(ActionRecord(at, e.position, tactic, action, person))
                if awaiting and key_of in awaiting:  # outcomes appended before it stood
                    for outcome in awaiting.pop(key_of):
                        outcome.tactic = tactic
                counterpart = data.get("counterpart_id")
                if counterpart:
                    self.named.add(counterpart)
                lines.append(
                    f"{e.event_id_text}\t{tenant}\t{person}\taction\t{action}\t{tactic}\t"
                    f"{NULL}\t{week}\t{e.occurred_at_text}\t{e.position}\t{version}\t{texts[key]}"
                    f"\t{counterpart or NULL}\tf\n"
                )
            elif kind == "MicroActionRetracted":
                c, v, r = investments[data["tactic"], data["minutes"], data["audience"]]
                sums.inv_c -= c
                sums.inv_v -= v
                sums.inv_r -= r
                sums.actions -= 1
                if data["audience"] != "private":
                    sums.visible_actions -= 1
                retracted_at[(person, data["action_id"])] = e.position
            else:  # OutcomeRecorded
                c, v, r = _EVIDENCE[data["kind"]]
                sums.ret_c += c
                sums.ret_v += v
                sums.ret_r += r
                sums.outcomes += 1
                outcome = OutcomeRecord(e.event_id_text, tenant, person, data["outcome_id"],
                                        data["action_id"], data["kind"], week, at, c, v, r,
                                        e.position, e.occurred_at_text)  # fmt: skip
                outcomes.append(outcome)
                self.outcome_rows.setdefault((person, outcome.outcome_id), []).append(outcome)
                if named := outcome.action_id:
                    self.link(outcome, named)
                else:
                    unlinked.append(outcome)

    def add_evidence(self, kind: str, event_id: str, tenant: str, data: dict[str, Any]) -> None:
        """Fold a confirmation, request or absence in (:meth:`Evidence.add`), flagging the
        rows of the action or outcome it confirms or declines that this state holds."""
        evidence = self.evidence
        action = evidence.add(kind, event_id, tenant, data)
        person = data["person_id"]
        if action is not None:
            value = evidence.actions[(person, action)]
            key = (person, action)
            if key in self.row_of:
                if len(self.row_of) == len(self.actions):  # one line per action
                    self.confirmed[self.row_of[key]] = value
                else:  # an import sent twice logs its actions twice
                    for i, a in enumerate(self.actions):
                        if a.person == person and a.action_id == action:
                            self.confirmed[i] = value
        elif kind == "OutcomeConfirmed":
            value = evidence.outcomes[(person, data["outcome_id"])]
            for outcome in self.outcome_rows.get((person, data["outcome_id"]), ()):
                outcome.confirmed = value

    def link(self, outcome: OutcomeRecord, action: str) -> None:
        """Credit an outcome naming an action, at its place in the log: the action's tactic
        if it stands (its latest logging is not undone), else it awaits the next logging.

        Parameters:
            outcome: the outcome just folded in.
            action: the id of the action it names.
        """
        key = (outcome.person, action)
        index = self.row_of.get(key)
        if index is not None:
            logged = self.actions[index]
            if self.retracted_at.get(key, -1) < logged.position:
                outcome.tactic = logged.tactic
                return
        elif key not in self.retracted_at:
            self.unseen.append(outcome)
        waiting = self.awaiting.get(key)
        if waiting is None:
            self.awaiting[key] = [outcome]
        else:
            waiting.append(outcome)

    def standing_action_lines(self) -> list[str]:
        """The action lines without those undone: each logged before its action's latest
        retraction (as catch-up deletes every stored row of an action it undoes)."""
        lines = self.action_lines
        if self.confirmed:  # flip the flag ending the rows a confirmation reached
            lines = list(lines)
            for row, flag in self.confirmed.items():
                lines[row] = lines[row][:-2] + ("t\n" if flag else "f\n")
        row_of, actions, retracted_at = self.row_of, self.actions, self.retracted_at
        if not retracted_at:
            return lines
        if len(row_of) == len(actions):  # no action logged twice: one line per action
            dropped = {
                i
                for a, undone in retracted_at.items()
                if (i := row_of.get(a)) is not None and actions[i].position < undone
            }
        else:  # an import sent twice logs its actions twice
            dropped = {
                i
                for i, a in enumerate(actions)
                if retracted_at.get((a.person, a.action_id), -1) > a.position
            }
        if not dropped:
            return lines
        return [line for i, line in enumerate(lines) if i not in dropped]

    def pending(self) -> list[OutcomeRecord]:
        """The outcomes still awaiting the action they name (catch-up: not credited by the
        stored contributions either)."""
        return [o for waiting in self.awaiting.values() for o in waiting if o.tactic is None]

    def outcome_lines(self) -> list[str]:
        """The outcomes' ``capital_contributions`` rows in COPY text."""
        version = self.version
        return [outcome.line(version) for outcome in self.outcomes]


class ActionTimeline:
    """One person's actions by event time, to find the one an outcome credits with a binary
    search rather than a scan of all of them per outcome.

    Parameters:
        actions: the person's actions, any order.
    """

    def __init__(self, actions: Iterable[ActionRecord]) -> None:
        self.actions = sorted(actions)  # by (at, position): positions are unique
        self.times = [a.at for a in self.actions]

    def latest_standing(
        self, outcome: OutcomeRecord, retracted_at: Mapping[ActionKey, int]
    ) -> str | None:
        """The tactic of the latest action (by event time) in the :data:`CREDIT_WINDOW`
        before ``outcome``, among those standing when it was appended: logged before it and
        not undone between (a logging after the retraction, an import sent again, stands).

        Parameters:
            outcome: the outcome to credit.
            retracted_at: (person, action id) -> position of its (latest) retraction.

        Returns:
            The tactic, or None when no action qualifies.
        """
        actions, times, position = self.actions, self.times, outcome.position
        window = outcome.at - CREDIT_WINDOW
        i = bisect_right(times, outcome.at) - 1
        while i >= 0 and times[i] >= window:  # latest first: the first that qualifies wins
            action = actions[i]
            if action.position < position:
                undone = retracted_at.get((action.person, action.action_id))
                if undone is None or not action.position < undone < position:
                    return action.tactic
            i -= 1
        return None


def timelines(actions: Iterable[ActionRecord]) -> dict[str, ActionTimeline]:
    """Each person's :class:`ActionTimeline` of ``actions``."""
    by_person: dict[str, list[ActionRecord]] = {}
    for action in actions:
        mine = by_person.get(action.person)
        if mine is None:
            by_person[action.person] = [action]
        else:
            mine.append(action)
    return {person: ActionTimeline(mine) for person, mine in by_person.items()}


def credit_unlinked(
    outcomes: Iterable[OutcomeRecord],
    timeline_of: Mapping[str, ActionTimeline],
    retracted_at: Mapping[ActionKey, int],
) -> None:
    """Fill in the tactic each outcome naming no action credits: the person's latest
    standing action of the 14 days before (:meth:`ActionTimeline.latest_standing`), whatever
    the batches.

    Parameters:
        outcomes: the outcomes to credit (their ``tactic`` is set).
        timeline_of: person -> their actions.
        retracted_at: (person, action id) -> position of its retraction.
    """
    empty = ActionTimeline(())
    for outcome in outcomes:
        timeline = timeline_of.get(outcome.person, empty)
        outcome.tactic = timeline.latest_standing(outcome, retracted_at)
