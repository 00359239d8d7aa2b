"""k-anonymity: small cells and cells derivable by subtraction are never shown."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.privacy import (
    Cell,
    Group,
    effective_k,
    protect_tree,
    suppress,
    suppress_hierarchy,
)


def test_k_is_never_below_three():
    assert effective_k(None) == 5 and effective_k(2) == 3 and effective_k(7) == 7


def test_small_cells_carry_no_number():
    assert suppress(Cell(71.2, 4), 5).public() == {"value": None, "n": None, "suppressed": True}
    assert suppress(Cell(71.2, 5), 5).public() == {"value": 71.2, "n": 5, "suppressed": False}


def test_one_hidden_part_beside_a_visible_parent_hides_another():
    cells = {"org": Cell(60, 20), "a": Cell(50, 9), "b": Cell(70, 7), "c": Cell(40, 4)}
    result = suppress_hierarchy(cells, [Group("org", ["a", "b", "c"])], 5)
    assert result["c"].suppressed and result["b"].suppressed  # b is the smallest visible
    assert not result["a"].suppressed and not result["org"].suppressed


@given(st.lists(st.integers(0, 12), min_size=1, max_size=6), st.integers(3, 7))
def test_no_group_ever_has_exactly_one_hidden_part(sizes: list[int], k: int):
    parts = {f"t{i}": Cell(50.0, n) for i, n in enumerate(sizes)}
    cells = {"org": Cell(50.0, sum(sizes)), **parts}
    result = suppress_hierarchy(cells, [Group("org", list(parts))], k)
    hidden = [p for p in parts if result[p].suppressed]
    assert all(result[p].suppressed for p in parts if parts[p].n < k)
    if not result["org"].suppressed:
        assert len(hidden) != 1 or len(parts) == 1


# -- a tree of rollups over weeks --------------------------------------------------------------


def _tree(sizes: dict[str, list[int]], weeks: int, k: int = 5) -> dict[tuple[str, int], Cell]:
    """Eng above A and B; ``sizes[team][week]`` people in each, Eng has no own members."""
    children = {"Eng": ["A", "B"]}
    cells, own = {}, {}
    for week in range(weeks):
        total = 0
        for team in ("A", "B"):
            n = sizes[team][week]
            cells[(team, week)] = Cell(50.0 if n else None, n)
            own[(team, week)] = n
            total += n
        cells[("Eng", week)] = Cell(50.0, total)
    return protect_tree("Eng", children, range(weeks), cells, own, k)


def test_a_small_part_hides_its_parent_not_a_sibling():
    result = _tree({"A": [8], "B": [2]}, 1)
    assert result[("B", 0)].suppressed and result[("Eng", 0)].suppressed
    assert not result[("A", 0)].suppressed
    # Two small parts together cover k people: the parent may show their sum.
    result = _tree({"A": [3], "B": [3]}, 1)
    assert result[("A", 0)].suppressed and result[("B", 0)].suppressed
    assert not result[("Eng", 0)].suppressed


def test_a_change_of_fewer_than_k_people_between_shown_weeks_is_hidden():
    result = _tree({"A": [6, 5, 6, 11, 10, 7], "B": [0] * 6}, 6)
    shown = [w for w in range(6) if not result[("A", w)].suppressed]
    assert shown == [0, 2, 3]  # 5, 10 and 7 are each within k of a shown week


@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=8),
    st.integers(3, 7),
)
def test_no_two_related_shown_cells_isolate_fewer_than_k(sizes, k: int):
    weeks = len(sizes)
    result = _tree({"A": [a for a, _ in sizes], "B": [b for _, b in sizes]}, weeks, k)
    for team in ("A", "B", "Eng"):
        shown = [result[(team, w)].n for w in range(weeks) if not result[(team, w)].suppressed]
        assert all(n >= k for n in shown)
        assert all(a == b or abs(a - b) >= k for a in shown for b in shown)
    for week in range(weeks):
        if not result[("Eng", week)].suppressed:
            hidden = sum(result[(t, week)].n for t in ("A", "B") if result[(t, week)].suppressed)
            assert hidden == 0 or hidden >= k
