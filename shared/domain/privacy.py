"""k-anonymity for manager views: aggregates over at least k people, nothing derivable.

A cell (one lever of one team and week) is shown only when at least ``k`` distinct people
contributed to it (k defaults to 5 and is never below 3). Suppressing small cells is not
enough when a parent aggregate is shown next to its parts: with the parent and all parts but
one visible, the hidden part follows by subtraction. :func:`suppress_hierarchy` therefore
also hides the smallest other part (complementary suppression) until no group has exactly
one hidden part beside a visible parent.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

K_FLOOR = 3
K_DEFAULT = 5

Key = TypeVar("Key", bound=Hashable)


def effective_k(k: int | None) -> int:
    """The k in force: the configured one, never below the floor of 3."""
    return max(K_FLOOR, k if k is not None else K_DEFAULT)


@dataclass(frozen=True)
class Cell:
    """An aggregate and how many distinct people it is computed over."""

    value: float | None
    n: int
    suppressed: bool = False

    def public(self) -> dict[str, object]:
        """What may leave the server: never a value (nor its n) when suppressed."""
        if self.suppressed:
            return {"value": None, "n": None, "suppressed": True}
        return {"value": self.value, "n": self.n, "suppressed": False}


def suppress(cell: Cell, k: int) -> Cell:
    if cell.n < effective_k(k) or cell.value is None:
        return replace(cell, suppressed=True)
    return cell


@dataclass(frozen=True)
class Group(Generic[Key]):
    """A parent cell and the cells it aggregates (a team and its sub-teams, an org and its
    teams): the parent's value can be derived from the parts and vice versa."""

    parent: Key
    parts: Sequence[Key]


def suppress_hierarchy(
    cells: Mapping[Key, Cell], groups: Sequence[Group[Key]], k: int
) -> dict[Key, Cell]:
    """Primary suppression (n < k), then complementary suppression within every group."""
    result = {key: suppress(cell, k) for key, cell in cells.items()}
    changed = True
    while changed:
        changed = False
        for group in groups:
            if group.parent not in result:
                continue
            parts = [p for p in group.parts if p in result]
            hidden = [p for p in parts if result[p].suppressed]
            visible = [p for p in parts if not result[p].suppressed]
            if result[group.parent].suppressed:
                continue  # without the parent, one hidden part cannot be worked out
            if len(hidden) == 1 and visible:
                smallest = min(visible, key=lambda p: (result[p].n, str(p)))
                result[smallest] = replace(result[smallest], suppressed=True)
                changed = True
    return result


# -- a hierarchy of teams over weeks (the lever read model's rule, docs/levers.md) -----------

W = TypeVar("W")


def protect_tree(
    root: Key,
    children: Mapping[Key, Sequence[Key]],
    weeks: Sequence[W],
    cells: Mapping[tuple[Key, W], Cell],
    own_n: Mapping[tuple[Key, W], int],
    k: int,
) -> dict[tuple[Key, W], Cell]:
    """Suppress one lever's cells over a tree of rollups and a run of weeks.

    ``cells[(node, week)]`` is a node's rollup (its own members plus every descendant's);
    ``own_n[(node, week)]`` counts its own members, whose cell is never shown on its own.
    ``weeks`` must be the whole history up to the last week wanted, in order, so the answer
    for a week never depends on the range asked for.

    A cell is hidden when

    1. fewer than k people are behind it (or it has no value);
    2. its n differs by 1..k-1 from the n of an earlier *shown* week of the same node: two
       shown weeks never isolate fewer than k joiners or leavers;
    3. the unseen parts below it (its own members, never shown on their own, and hidden
       child rollups) cover 1..k-1 people in total: showing it would let their sum be worked
       out by subtraction. Hiding the rollup (not a sibling) keeps every decision inside the
       node's subtree, so a team reads the same whoever asks and whatever else is shown.

    A hidden cell carries its *mass*: how few people could be isolated through it; a rollup
    is shown only when the masses under it add up to 0 or at least k.
    """
    k = effective_k(k)
    order: list[Key] = []

    def visit(node: Key) -> None:
        for child in children.get(node, ()):
            visit(child)
        order.append(node)

    visit(root)
    shown: dict[Key, set[int]] = {node: set() for node in order}
    result: dict[tuple[Key, W], Cell] = {}
    for week in weeks:
        mass: dict[Key, int] = {}
        for node in order:
            cell = cells.get((node, week), Cell(None, 0))
            own = own_n.get((node, week), 0)
            below = own + sum(mass[c] for c in children.get(node, ()) if c in mass)
            hidden_mass = 0
            if cell.value is None or cell.n < k:
                hidden_mass = cell.n
            else:
                changes = [abs(cell.n - m) for m in shown[node] if 0 < abs(cell.n - m) < k]
                if changes:
                    hidden_mass = min(changes)
                elif 0 < below < k:
                    hidden_mass = below
                else:
                    result[(node, week)] = replace(cell, suppressed=False)
                    shown[node].add(cell.n)
                    mass[node] = 0
                    continue
            # Hidden: carries what could be isolated through it.
            mass[node] = max(hidden_mass, below) if 0 < below < k else hidden_mass
            result[(node, week)] = replace(cell, suppressed=True)
    return result
