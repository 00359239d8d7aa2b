"""Career capital, model version 2 (docs/scoring.md): pure functions, no I/O, no clock.

Model 2 scores what was proven, not how much was logged:

- **Effort** is a saturating function of the minutes of one day's actions of one tactic (a
  *bucket*), shared among them by minutes: splitting an action gains nothing.
- **A week saturates**: per dimension, a week's effort is capped softly
  (:data:`WEEK_EFFORT_CAP` actions' worth of its heaviest action), so six actions a week
  give almost all a week can give; a hundred give little more; no action lowers a score.
- **Two channels**: what a person reports alone (*self-reported*) and what someone else
  confirmed (*confirmed*: an action a colleague confirmed or answered "useful", an outcome
  its confirmer confirmed). Confirmed evidence weighs more, saturates later and decays
  slower.
- **Relationships need reciprocity**: the relationship part of unconfirmed actions whose
  counterpart never reciprocated (answered, confirmed or deposited back) fills a small
  pool of its own (:data:`ONE_WAY_CAP`).
- **Leave pauses decay**: ages count only the days a person was not away.

Capital per dimension is ``100 * units / (units + SATURATION)``; each contribution's share
of the units explains the score.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from shared.domain.tactics import TACTICS
from shared.domain.weeks import week_index, week_monday

MODEL_VERSION = 2
DIMENSIONS = ("capability", "visibility", "relationships")
EFFORT_MINUTES = 10.0  # a bucket's effort: 1 - e^(-(minutes + SHOW_UP_MINUTES)/10)
SHOW_UP_MINUTES = 4.0  # the first minute of a day's tactic counts as showing up
WEEK_EFFORT_CAP = 1.2  # a week's self-reported effort saturates at this many buckets
PROOF_EFFORT_CAP = 4.0  # a week's confirmed effort saturates later
PROOF_WEIGHT = 4.0  # a confirmed action's units per unconfirmed unit
SELF_OUTCOME_WEIGHT = 1.0
SELF_OUTCOMES_CAP = 1.5  # a week's self-reported outcomes count as at most 1.5 of them
PROOF_OUTCOME_WEIGHT = 3.0  # a confirmed outcome: at least what 10 self-reported add
ONE_WAY_CAP = 1.0  # units one-way relationship deposits can add, all weeks together
SELF_HALF_LIFE_WEEKS = 8
PROOF_HALF_LIFE_WEEKS = 26
SATURATION = 30.0  # units at which a dimension reaches 50 of 100
AUDIENCE_VISIBILITY = {"private": 0.25, "team": 1.0, "decision_makers": 1.5}
OUTCOME_EVIDENCE: dict[str, tuple[float, float, float]] = {
    "invitation": (0.5, 2.0, 1.0),
    "assignment": (2.0, 1.0, 0.0),
    "recognition": (0.5, 2.0, 0.5),
    "useful_feedback": (1.0, 0.5, 0.5),
    "new_responsibility": (2.5, 1.0, 0.5),
    "sponsorship": (0.5, 1.5, 3.0),
}

Vector = tuple[float, float, float]


@dataclass(frozen=True)
class ActionFact:
    """A standing action as scoring sees it.

    Attributes:
        day: its day (event time, UTC).
        tactic, minutes, audience: as logged.
        confirmed: a colleague confirmed it, or answered "useful" to a request naming it.
        reciprocated: its counterpart deposited back (confirmed implies reciprocity too).
        ref: its id, for the explanation.
    """

    day: date
    tactic: str
    minutes: int
    audience: str
    confirmed: bool = False
    reciprocated: bool = False
    ref: str = ""


@dataclass(frozen=True)
class OutcomeFact:
    """An outcome; ``confirmed`` when the confirmer it named confirmed it."""

    day: date
    kind: str
    confirmed: bool = False
    ref: str = ""


@dataclass(frozen=True)
class Absence:
    """A declared absence, both days included."""

    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class Contribution:
    """One action's or outcome's decayed units on (C, V, R), and its channel."""

    kind: str  # "action" or "outcome"
    ref: str
    label: str  # the tactic or the outcome kind
    week: int
    confirmed: bool
    units: Vector


@dataclass(frozen=True)
class Scores:
    capability: float
    visibility: float
    relationships: float

    def as_dict(self) -> dict[str, float]:
        return {
            "capability": self.capability,
            "visibility": self.visibility,
            "relationships": self.relationships,
        }


def bucket_effort(minutes: float) -> float:
    """A (day, tactic) bucket's effort, 0..1, from its minutes: 1 min → 0.39, 5 → 0.59,
    10 → 0.75, 20 → 0.91, 60 → 1.0."""
    if minutes <= 0:
        return 0.0
    return 1.0 - math.exp(-(minutes + SHOW_UP_MINUTES) / EFFORT_MINUTES)


def soft_cap(value: float, cap: float) -> float:
    """``cap * (1 - e^(-value/cap))``: about ``value`` when small, never above ``cap``."""
    return cap * (1.0 - math.exp(-value / cap)) if value > 0 else 0.0


def weights(tactic: str, audience: str) -> Vector:
    """A tactic's weights on (C, V, R), visibility times the audience's visibility."""
    t = TACTICS[tactic]
    return (t.capability, t.visibility * AUDIENCE_VISIBILITY[audience], t.relationships)


def raw_investment(tactic: str, minutes: int, audience: str) -> Vector:
    """An action's undecayed weighted minutes on (C, V, R) (linear: what the weekly rows
    store; the bucket's saturating effort is applied at read time)."""
    w = weights(tactic, audience)
    return (w[0] * minutes, w[1] * minutes, w[2] * minutes)


def evidence(kind: str) -> Vector:
    """One outcome's undecayed evidence on (C, V, R)."""
    return OUTCOME_EVIDENCE[kind]


def decay(age_weeks: float, half_life_weeks: int) -> float:
    """``0.5^(age/half-life)``; a negative age counts as 0."""
    return 0.5 ** (max(0.0, age_weeks) / half_life_weeks)


def capital(units: float) -> float:
    """0..100 from a dimension's decayed units: ``100 * u / (u + SATURATION)``, gentle
    enough that tactics weighing 1 and 3 on a dimension both land in 35..70 at the seed's
    pace."""
    units = max(0.0, units)
    return 100.0 * units / (units + SATURATION)


class ActiveDays:
    """Ages in weeks that skip declared absences: only days not away count.

    Parameters:
        absences: the person's declared absences (overlaps count once).
    """

    def __init__(self, absences: Iterable[Absence]) -> None:
        away: set[int] = set()
        for a in absences:
            away.update(range(a.starts_on.toordinal(), a.ends_on.toordinal() + 1))
        self.away = sorted(away)

    def age(self, day: date, as_of: date) -> float:
        """Weeks of days not away after ``day`` up to ``as_of`` (0 when ``day`` is later)."""
        start, end = day.toordinal(), as_of.toordinal()
        if start >= end:
            return 0.0
        paused = bisect_right(self.away, end) - bisect_right(self.away, start)
        return (end - start - paused) / 7.0

    def away_share(self, week: int) -> float:
        """The share (0..1) of the week with index ``week`` the person declared away."""
        monday = week_monday(week).toordinal()
        return (bisect_left(self.away, monday + 7) - bisect_left(self.away, monday)) / 7.0


def _one_way(a: ActionFact, confirmed: bool) -> bool:
    """Whether an action's relationship part is one-way: unconfirmed, unreciprocated."""
    return not (confirmed or a.reciprocated) and TACTICS[a.tactic].relationships > 0


def _action_units(actions: Sequence[ActionFact], cap: float, confirmed: bool) -> list[Vector]:
    """Each action's units on (C, V, R) in one week and channel, undecayed.

    A bucket (day, tactic, audience, one-way or not) turns its minutes into effort, shared
    by minutes. Per dimension the week saturates: ``w * soft_cap(X / w, cap)`` where ``X``
    sums effort times weight and ``w`` is the largest weight of the week's actions on it
    (both only grow as actions are added, so no action lowers a score); each action keeps
    its share. One-way relationship parts saturate apart from reciprocated ones.
    """
    minutes: dict[tuple[date, str, str, bool], int] = defaultdict(int)
    keys = [(a.day, a.tactic, a.audience, _one_way(a, confirmed)) for a in actions]
    for key, a in zip(keys, actions, strict=True):
        minutes[key] += a.minutes
    raw: list[tuple[Vector, Vector, bool]] = []  # (effort * weights, weights, one-way)
    for key, a in zip(keys, actions, strict=True):
        effort = bucket_effort(minutes[key]) * a.minutes / minutes[key]
        w = weights(a.tactic, a.audience)
        raw.append(((effort * w[0], effort * w[1], effort * w[2]), w, key[3]))
    factors: dict[tuple[int, bool], float] = {}
    for d in range(3):
        for one_way in (False, True) if d == 2 else (None,):
            group = [r for r in raw if one_way is None or r[2] == one_way]
            total = sum(units[d] for units, _, _ in group)
            heaviest = max((w[d] for _, w, _ in group), default=0.0)
            if total > 0:
                factors[(d, bool(one_way))] = heaviest * soft_cap(total / heaviest, cap) / total
    return [
        (units[0] * factors.get((0, False), 0.0), units[1] * factors.get((1, False), 0.0),
         units[2] * factors.get((2, one_way), 0.0))
        for units, _, one_way in raw
    ]  # fmt: skip


@dataclass(frozen=True)
class Undecayed:
    """A contribution before decay: its week's saturation and its channel's weight applied.

    Attributes:
        kind, ref, label, week, confirmed: as in :class:`Contribution`.
        day: its day (ages count from it).
        half_life: its channel's half-life in weeks.
        one_way: its relationship part is one-way (it joins the small pool).
        units: its units on (C, V, R).
    """

    kind: str
    ref: str
    label: str
    week: int
    confirmed: bool
    day: date
    half_life: int
    one_way: bool
    units: Vector


def undecayed(
    actions: Iterable[ActionFact], outcomes: Iterable[OutcomeFact], as_of: date
) -> list[Undecayed]:
    """Every action's and outcome's units up to the day ``as_of``, before decay: each week
    and channel saturated (later days are left out). Decaying them as of the end of any
    earlier week gives that week's scores (weeks are whole), so a history computes this once.

    Parameters:
        actions, outcomes: the person's standing actions and outcomes.
        as_of: the last day taken in.

    Returns:
        One :class:`Undecayed` per action and outcome up to that day.
    """
    by_week: dict[tuple[int, bool], list[ActionFact]] = defaultdict(list)
    for a in actions:
        if a.day <= as_of:
            by_week[(week_index(a.day), a.confirmed)].append(a)
    result: list[Undecayed] = []
    for (week, confirmed), mine in by_week.items():
        weight, half_life, cap = (
            (PROOF_WEIGHT, PROOF_HALF_LIFE_WEEKS, PROOF_EFFORT_CAP)
            if confirmed
            else (1.0, SELF_HALF_LIFE_WEEKS, WEEK_EFFORT_CAP)
        )
        for a, u in zip(mine, _action_units(mine, cap, confirmed), strict=True):
            units = (u[0] * weight, u[1] * weight, u[2] * weight)
            result.append(Undecayed("action", a.ref, a.tactic, week, confirmed, a.day,
                                    half_life, _one_way(a, confirmed), units))  # fmt: skip
    result.extend(_outcome_units(outcomes, as_of))
    return result


def decayed(parts: Iterable[Undecayed], clock: ActiveDays, as_of: date) -> list[Contribution]:
    """``parts`` decayed at the end of the day ``as_of`` (later ones left out), the one-way
    relationship units scaled into their small pool (:data:`ONE_WAY_CAP`, each keeping its
    share): :func:`decay_each`, then :func:`pooled`.

    Parameters:
        parts: from :func:`undecayed`.
        clock: the person's absences (ages skip them).
        as_of: the day scored.

    Returns:
        One :class:`Contribution` per part up to that day.
    """
    result: list[Contribution] = []
    one_way: list[int] = []
    decay_each(parts, clock, as_of, result, one_way)
    return pooled(result, one_way)


def decay_each(
    parts: Iterable[Undecayed],
    clock: ActiveDays,
    as_of: date,
    result: list[Contribution],
    one_way: list[int],
) -> None:
    """Append ``parts`` decayed at the end of the day ``as_of`` (later ones left out) to
    ``result``, and the indexes in it of those with one-way relationship units to
    ``one_way``; not pooled yet. Appending to a list decayed before gives what
    :func:`decayed` would for both lists' parts in that order (a next action's scoring
    decays the rest of the history once). Each day and half-life's decay is computed once."""
    scales: dict[tuple[date, int], float] = {}
    for p in parts:
        if p.day > as_of:
            continue
        key = (p.day, p.half_life)
        scale = scales.get(key)
        if scale is None:
            scale = scales[key] = decay(clock.age(p.day, as_of), p.half_life)
        if p.one_way:
            one_way.append(len(result))
        units = (p.units[0] * scale, p.units[1] * scale, p.units[2] * scale)
        result.append(Contribution(p.kind, p.ref, p.label, p.week, p.confirmed, units))


def pooled(result: list[Contribution], one_way: list[int]) -> list[Contribution]:
    """``result`` (changed in place, and returned) with the one-way relationship units at
    the indexes ``one_way`` scaled into their small pool (:data:`ONE_WAY_CAP`)."""
    total = sum(result[i].units[2] for i in one_way)
    if total > 0:
        factor = soft_cap(total, ONE_WAY_CAP) / total
        for i in one_way:
            c = result[i]
            units = (c.units[0], c.units[1], c.units[2] * factor)
            result[i] = Contribution(c.kind, c.ref, c.label, c.week, c.confirmed, units)
    return result


def contributions(
    actions: Iterable[ActionFact],
    outcomes: Iterable[OutcomeFact],
    absences: Iterable[Absence],
    as_of: date,
) -> list[Contribution]:
    """Every action's and outcome's decayed units at the end of the day ``as_of`` (later
    ones are left out): :func:`undecayed`, then :func:`decayed`.

    Parameters:
        actions, outcomes: the person's standing actions and outcomes.
        absences: the person's declared absences.
        as_of: the last day scored.

    Returns:
        One :class:`Contribution` per action and outcome up to that day.
    """
    return decayed(undecayed(actions, outcomes, as_of), ActiveDays(absences), as_of)


def _outcome_units(outcomes: Iterable[OutcomeFact], as_of: date) -> list[Undecayed]:
    """Confirmed outcomes at full weight; a week's self-reported ones share at most
    :data:`SELF_OUTCOMES_CAP` outcomes' worth."""
    self_reported: dict[int, list[OutcomeFact]] = defaultdict(list)
    result = []
    for o in outcomes:
        if o.day > as_of:
            continue
        week = week_index(o.day)
        if not o.confirmed:
            self_reported[week].append(o)
            continue
        ev = evidence(o.kind)
        units = (ev[0] * PROOF_OUTCOME_WEIGHT, ev[1] * PROOF_OUTCOME_WEIGHT,
                 ev[2] * PROOF_OUTCOME_WEIGHT)  # fmt: skip
        result.append(Undecayed("outcome", o.ref, o.kind, week, True, o.day,
                                PROOF_HALF_LIFE_WEEKS, False, units))  # fmt: skip
    for week, mine in self_reported.items():
        count = len(mine)
        share = soft_cap(count, SELF_OUTCOMES_CAP) / count * SELF_OUTCOME_WEIGHT
        for o in mine:
            ev = evidence(o.kind)
            units = (ev[0] * share, ev[1] * share, ev[2] * share)
            result.append(Undecayed("outcome", o.ref, o.kind, week, False, o.day,
                                    SELF_HALF_LIFE_WEEKS, False, units))  # fmt: skip
    return result


def units_of(parts: Iterable[Contribution]) -> tuple[Vector, Vector]:
    """The (self-reported, confirmed) units per dimension of ``parts``."""
    own, proven = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
    for c in parts:
        target = proven if c.confirmed else own
        for d in range(3):
            target[d] += c.units[d]
    return (own[0], own[1], own[2]), (proven[0], proven[1], proven[2])


def scores_of(parts: Iterable[Contribution]) -> Scores:
    """Capital per dimension (0..100, one decimal) from contributions."""
    own, proven = units_of(parts)
    return Scores(*(round(capital(own[d] + proven[d]), 1) for d in range(3)))


def scores_at(
    actions: Iterable[ActionFact],
    outcomes: Iterable[OutcomeFact],
    absences: Iterable[Absence],
    as_of: date,
) -> Scores:
    """Capital per dimension at the end of the day ``as_of`` (see :func:`contributions`)."""
    return scores_of(contributions(actions, outcomes, absences, as_of))
