"""Catch-up's actions and rewards: a batch's rewards, confirmations, actions and
retractions written against the stored tables (:func:`apply_actions`), by the rules of
:mod:`.transitions` that the rebuild runs in memory (``rebuild._actions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.projections.levers.transitions import REWARD_WINDOW, LeverFacts, rewarded

PersonWeekKey = tuple[str, str, int]
"""(tenant, person, week index)."""


def apply_actions(pg: Any, tables: Mapping[str, str], facts: LeverFacts) -> set[PersonWeekKey]:
    """Store the batch's answers, rewards and actions, mark retracted, declined and rewarded
    actions; returns the person-weeks whose counts that changed.

    Whether an action is rewarded is decided by event time, whatever the batches: the
    batch's actions are judged by :func:`~.transitions.rewarded` (the rebuild's rule) against
    every reward stored that counts, this batch's included; the actions stored before are
    judged again by one ``UPDATE`` that asks the same rule in SQL (kept for speed: a reward
    may reach back over many stored actions). The batch's answers reach the rewards and
    actions stored before it first (those of the batch carry theirs)."""
    touched: set[PersonWeekKey] = set()
    actions, people = tables["lever_actions"], tables["lever_people"]
    since = dict(facts.reward_since)
    if facts.outcome_answers:
        for person, at in pg.execute(
            f"UPDATE {tables['lever_rewards']} r SET confirmed = k.confirmed "
            "FROM unnest(%s::uuid[], %s::uuid[], %s::bool[]) "
            "AS k(person_id, outcome_id, confirmed) "
            "WHERE r.outcome_id = k.outcome_id AND r.person_id = k.person_id "
            "AND r.confirmed <> k.confirmed RETURNING r.person_id::text, r.occurred_at",
            (
                [person for person, _ in facts.outcome_answers],
                [outcome for _, outcome in facts.outcome_answers],
                list(facts.outcome_answers.values()),
            ),
        ):
            at -= REWARD_WINDOW
            if person not in since or at < since[person]:
                since[person] = at
    if facts.action_answers:
        touched |= _declined(pg, tables, facts.action_answers)
    if facts.rewards:
        pg.execute(
            f"INSERT INTO {tables['lever_rewards']} (outcome_id, person_id, occurred_at, "
            "named, confirmed) SELECT * FROM unnest(%s::uuid[], %s::uuid[], "
            "%s::timestamptz[], %s::bool[], %s::bool[]) ON CONFLICT (outcome_id) DO NOTHING",
            [
                list(facts.rewards),
                *(
                    list(c)
                    for c in zip(
                        *((r.person, r.occurred_at, r.named, r.confirmed)
                          for r in facts.rewards.values()),
                        strict=True,
                    )
                ),
            ],
        )  # fmt: skip
    if facts.actions:
        _insert_actions(pg, tables, facts)
    if facts.retracted:
        for tenant, person, week in pg.execute(
            f"UPDATE {actions} a SET retracted = true "
            f"FROM {people} p, unnest(%s::uuid[], %s::uuid[]) AS r(person_id, action_id) "
            "WHERE a.action_id = r.action_id AND a.person_id = r.person_id "
            "AND p.person_id = a.person_id "
            "RETURNING p.tenant_id::text, a.person_id::text, a.week_index",
            (
                [person for person, _ in facts.retracted],
                [action for _, action in facts.retracted],
            ),
        ):
            touched.add((tenant, person, week))
    if since:
        touched |= _rejudge(pg, tables, since)
    return touched


def _declined(
    pg: Any, tables: Mapping[str, str], answers: Mapping[tuple[str, str], bool]
) -> set[PersonWeekKey]:
    """Mark the stored actions a batch's counterpart answers reach (declined or not), as the
    rebuild marks every action, whoever's; returns the person-weeks whose actions changed
    (each stored action has its person-week, with the tenant of its first action)."""
    return {
        (tenant, person, week)
        for tenant, person, week in pg.execute(
            f"UPDATE {tables['lever_actions']} a SET declined = NOT k.confirmed "
            "FROM unnest(%s::uuid[], %s::uuid[], %s::bool[]) "
            "AS k(person_id, action_id, confirmed) "
            "WHERE a.action_id = k.action_id AND a.person_id = k.person_id "
            "AND a.declined = k.confirmed "
            f"RETURNING (SELECT pw.tenant_id::text FROM {tables['lever_person_weeks']} pw "
            "WHERE pw.person_id = a.person_id AND pw.week_index = a.week_index), "
            "a.person_id::text, a.week_index",
            (
                [person for person, _ in answers],
                [action for _, action in answers],
                list(answers.values()),
            ),
        )
        if tenant is not None
    }


def _insert_actions(pg: Any, tables: Mapping[str, str], facts: LeverFacts) -> None:
    """Store the batch's actions, each judged against the stored rewards."""
    counting, confirmed = _reward_times(pg, tables, facts)
    rows = [
        (
            action,
            a.person,
            a.week,
            a.occurred_at,
            a.stretch,
            a.visible,
            a.visible and rewarded(a.occurred_at, counting.get(a.person, ())),
            a.declined,
            a.visible and rewarded(a.occurred_at, confirmed.get(a.person, ())),
        )
        for action, a in facts.actions.items()
    ]
    pg.execute(
        f"""INSERT INTO {tables["lever_actions"]} (action_id, person_id, week_index,
            occurred_at, stretch, visible, rewarded, declined, reward_confirmed)
        SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::int[], %s::timestamptz[],
            %s::bool[], %s::bool[], %s::bool[], %s::bool[], %s::bool[])
        ON CONFLICT (action_id) DO NOTHING""",
        [list(c) for c in zip(*rows, strict=True)],
    )


def _rejudge(
    pg: Any, tables: Mapping[str, str], since: Mapping[str, datetime]
) -> set[PersonWeekKey]:
    """The rule of ``transitions.rewarded``, for the stored visible actions of each person
    from ``since`` on: rewarded by a reward that counts 0 to 14 days after, confirmed by a
    confirmed one. Returns the person-weeks of the actions whose flags changed."""
    rewards = tables["lever_rewards"]
    window = "r.person_id = a.person_id AND r.occurred_at >= a.occurred_at " \
        "AND r.occurred_at <= a.occurred_at + interval '14 days'"  # fmt: skip
    return {
        (tenant, person, week)
        for tenant, person, week in pg.execute(
            f"""UPDATE {tables["lever_actions"]} a SET rewarded = n.rewarded,
                reward_confirmed = n.confirmed
            FROM (SELECT a.action_id, p.tenant_id,
                    EXISTS (SELECT 1 FROM {rewards} r WHERE {window}
                        AND (r.confirmed OR NOT r.named)) AS rewarded,
                    EXISTS (SELECT 1 FROM {rewards} r WHERE {window}
                        AND r.confirmed AND r.named) AS confirmed
                FROM unnest(%s::uuid[], %s::timestamptz[]) AS k(person_id, since)
                JOIN {tables["lever_actions"]} a ON a.person_id = k.person_id
                    AND a.occurred_at >= k.since AND a.visible
                JOIN {tables["lever_people"]} p ON p.person_id = a.person_id) n
            WHERE a.action_id = n.action_id
              AND (a.rewarded <> n.rewarded OR a.reward_confirmed <> n.confirmed)
            RETURNING n.tenant_id::text, a.person_id::text, a.week_index""",
            (list(since), list(since.values())),
        )
    }


def _reward_times(
    pg: Any, tables: Mapping[str, str], facts: LeverFacts
) -> tuple[dict[str, list[datetime]], dict[str, list[datetime]]]:
    """The stored rewards (this batch's included) that may reward the batch's visible
    actions, sorted per person, those that count and those confirmed: of people stored
    (catch-up marks no one else, nor does the rebuild), from the earliest such action to 14
    days after the latest."""
    visible = [a for a in facts.actions.values() if a.visible]
    counting: dict[str, list[datetime]] = {}
    confirmed: dict[str, list[datetime]] = {}
    if not visible:
        return counting, confirmed
    for person, at, named, yes in pg.execute(
        f"SELECT r.person_id::text, r.occurred_at, r.named, r.confirmed "
        f"FROM {tables['lever_rewards']} r JOIN {tables['lever_people']} p USING (person_id) "
        "WHERE r.person_id = ANY(%s::uuid[]) AND r.occurred_at >= %s "
        "AND r.occurred_at <= %s ORDER BY r.person_id, r.occurred_at",
        (
            list({a.person for a in visible}),
            min(a.occurred_at for a in visible),
            max(a.occurred_at for a in visible) + REWARD_WINDOW,
        ),
    ):
        if yes or not named:
            counting.setdefault(person, []).append(at)
        if yes and named:
            confirmed.setdefault(person, []).append(at)
    return counting, confirmed
