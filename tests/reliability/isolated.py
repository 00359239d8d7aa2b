"""The capital projection under its own name and tables, for tests that kill or compare."""

from __future__ import annotations

from shared.projections.capital import CapitalProjection
from shared.projections.runtime import Projection
from tests.integration.isolated_projections import isolated as isolated_projection


def isolated(suffix: str) -> Projection:
    """Capital as ``capital_{suffix}`` with tables ``{table}_{suffix}``; its ``apply`` and
    its rebuild's fold (``CapitalFold``) see them under their base names."""
    return isolated_projection(CapitalProjection(), suffix)
