"""k-anonymity: small cells and cells derivable by subtraction are never shown."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.privacy import Cell, Group, effective_k, suppress, suppress_hierarchy


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
