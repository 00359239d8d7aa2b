"""The read side's arithmetic: a ``lever_team_weeks`` row's sums, their roll-up over the team
tree, and the protected cells of every node and week (:func:`series`).

Sums travel as plain lists in :data:`~shared.projections.levers.schema.SUM_COLUMNS` order
(thousandths already turned into units): an organisation view adds thousands of them, and
list arithmetic over ``zip`` is the cheapest way; ``WeekSums(*sums)`` names them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.domain import levers as model
from shared.domain.nudges import manager_nudges
from shared.domain.privacy import Cell, protect_tree
from shared.domain.weeks import week_label
from shared.projections.levers.schema import MILLI, MILLI_COLUMNS, SUM_COLUMNS


def week_sums(row: Any) -> model.WeekSums:
    """A ``lever_team_weeks`` row (with its columns as attributes) as the domain's sums.

    Parameters:
        row: a row holding every column of ``SUM_COLUMNS``.

    Returns:
        The sums, thousandths turned into units.
    """
    values = {}
    for name in SUM_COLUMNS:
        value = getattr(row, name)
        values[name] = value / MILLI if name in MILLI_COLUMNS else value
    return model.WeekSums(**values)


_MILLI_AT = tuple(i for i, name in enumerate(SUM_COLUMNS) if name in MILLI_COLUMNS)
_SCALARS = len(SUM_COLUMNS) - 2  # then item_sum and item_n
SUMS_SQL = ", ".join(SUM_COLUMNS)


def sums_list(row: Sequence[Any]) -> list[Any]:
    """A ``lever_team_weeks`` row's sums as a list, thousandths turned into units.

    Parameters:
        row: the sums' columns in ``SUM_COLUMNS`` order.

    Returns:
        A new list in the same order.
    """
    values = list(row)
    for i in _MILLI_AT:
        values[i] = values[i] / MILLI
    return values


def add_sums(a: list[Any], b: list[Any]) -> list[Any]:
    """The sums of two disjoint populations added (item arrays: None is no answer).

    Parameters:
        a, b: sums lists (``SUM_COLUMNS`` order).

    Returns:
        A new sums list.
    """
    total = [x + y for x, y in zip(a[:_SCALARS], b[:_SCALARS], strict=True)]
    for i in (_SCALARS, _SCALARS + 1):
        x, y = a[i], b[i]
        total.append(
            y if x is None else x if y is None else [p + q for p, q in zip(x, y, strict=True)]
        )
    return total


ZERO_SUMS = [0] * _SCALARS + [None, None]
"""The sums of nobody."""


def series(
    root: Any,
    children: Mapping[Any, list[Any]],
    own: Mapping[tuple[Any, int], list[Any]],
    first: int,
    last: int,
    k: int,
) -> dict[tuple[Any, int], dict[str, Any]]:
    """Every node's rollup per week from the first week with data to ``last``, protected
    (for ``root`` and its children: the nodes a view shows).

    Parameters:
        root: the node a view is of (a team id, or the organisation's node).
        children: node -> its child nodes (sorted as shown).
        own: (node, week) -> the node's own sums list (its direct members).
        first, last: the weeks a view shows (earlier weeks with data are computed too: the
            week-over-week rule needs them).
        k: the privacy threshold.

    Returns:
        (node, week) -> the week's cells as the API shows them, for ``root`` and its
        children, weeks ``first`` to ``last``.
    """
    # Nodes as small ints while computing: a UUID's hash is computed in Python, each time.
    ids: dict[Any, int] = {}
    for node in (root, *children, *(c for kids in children.values() for c in kids)):
        ids.setdefault(node, len(ids))
    nodes = list(ids)
    result = series_of(
        ids[root],
        {ids[parent]: [ids[c] for c in kids] for parent, kids in children.items()},
        {(ids[node], week): sums for (node, week), sums in own.items() if node in ids},
        first,
        last,
        k,
    )
    return {(nodes[node], week): out for (node, week), out in result.items()}


def series_of(
    root: int,
    children: Mapping[int, list[int]],
    own: Mapping[tuple[int, int], list[Any]],
    first: int,
    last: int,
    k: int,
) -> dict[tuple[int, int], dict[str, Any]]:
    """:func:`series` on small-integer node ids (a UUID's hash is computed in Python, each
    time). Parameters and result as :func:`series`."""
    start = min([w for _, w in own] + [first])
    weeks = list(range(start, last + 1))
    order: list[Any] = []

    def visit(node: Any) -> None:
        for child in children.get(node, ()):
            visit(child)
        order.append(node)

    visit(root)
    wanted = {root, *children.get(root, ())}  # the nodes a view shows
    rollup: dict[tuple[Any, int], list[Any]] = {}
    computed: dict[tuple[Any, int], dict[str, model.Lever]] = {}
    own_levers: dict[tuple[Any, int], dict[str, model.Lever]] = {}
    for key, sums in own.items():
        own_levers[key] = model.levers_of(model.WeekSums(*sums))
    for week in weeks:
        for node in order:
            key = (node, week)
            total = own.get(key, ZERO_SUMS)
            for child in children.get(node, ()):
                total = add_sums(total, rollup[(child, week)])
            rollup[key] = total
            computed[key] = model.levers_of(model.WeekSums(*total))
    protected: dict[str, dict[tuple[Any, int], Cell]] = {}
    for lever in model.LEVER_NAMES:
        lever_cells = {key: Cell(v[lever].value, v[lever].n) for key, v in computed.items()}
        own_n = {key: v[lever].n for key, v in own_levers.items()}
        protected[lever] = protect_tree(root, children, weeks, lever_cells, own_n, k)
    result: dict[tuple[Any, int], dict[str, Any]] = {}
    for node in order:
        if node not in wanted:
            continue
        previous: dict[str, Cell] = {}
        for week in weeks:
            key = (node, week)
            cells = {lever: protected[lever][key] for lever in model.LEVER_NAMES}
            if week >= first:
                result[key] = week_out(week, cells, previous, model.WeekSums(*rollup[key]), k)
            previous = cells
    return result


def week_out(
    week: int,
    cells: Mapping[str, Cell],
    previous: Mapping[str, Cell],
    sums: model.WeekSums,
    k: int,
) -> dict[str, Any]:
    """One node's week as the API shows it.

    Parameters:
        week: the week index.
        cells: lever -> its protected cell this week.
        previous: lever -> its protected cell the week before (for the trend).
        sums: the node's rolled-up sums this week (pulse items, calendar components).
        k: the privacy threshold.

    Returns:
        The week: label, members, levers with trends, pulse items, time-pressure
        components and nudges, each hidden where its cell is.
    """
    levers: dict[str, Any] = {}
    for lever, cell in cells.items():
        out = cell.public()
        before = previous.get(lever)
        out["trend"] = (
            round(cell.value - before.value, 1)
            if not cell.suppressed
            and before is not None
            and not before.suppressed
            and cell.value is not None
            and before.value is not None
            else None
        )
        levers[lever] = out
    safety, pressure = cells["psychological_safety"], cells["time_pressure"]
    items: dict[str, Any] = {}
    for item in model.ITEMS:
        value, n = sums.item(item)
        show = not safety.suppressed and n >= k and value is not None
        items[item] = {
            "value": value if show else None,
            "n": n if show else None,
            "suppressed": not show,
        }
    show_calendar = not pressure.suppressed and sums.calendar_people >= k
    people = sums.calendar_people or 1
    calendar = {
        "people": sums.calendar_people if show_calendar else None,
        "meeting_share": round(100 * sums.meeting_hours / sums.working_hours, 1)
        if show_calendar and sums.working_hours
        else None,
        "focus_hours_per_person": round(sums.focus_hours / people, 1) if show_calendar else None,
        "after_hours_per_person": round(sums.after_hours / people, 2) if show_calendar else None,
        "back_to_back_per_person": round(sums.back_to_back / people, 2) if show_calendar else None,
        "suppressed": not show_calendar,
    }
    participation = cells["participation"]
    return {
        "week": week_label(week),
        "members": None if participation.suppressed else participation.n,
        "levers": levers,
        "pulse_items": items,
        "time_pressure_components": calendar,
        "nudges": manager_nudges(levers, calendar),
    }
