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
