"""Person capital: weekly investment and returns per dimension, and every contribution.

One module per responsibility: :mod:`.state` (each event's effect, once, and crediting),
:mod:`.evidence` (confirmations, requests naming an action, absences) and
:mod:`.evidence_sql` (their catch-up SQL), :mod:`.projection` (the projection: catch-up with
SQL, rebuild with COPY), :mod:`.reads` (model 2's scores at read time, and the latest
contributions).

``EPOCH_MONDAY``, ``week_index`` and ``week_label`` live in :mod:`shared.domain.weeks`; they
are re-exported here for the importers that still name this module.
"""

from __future__ import annotations

from shared.domain.weeks import EPOCH_MONDAY, week_index, week_label
from shared.projections.capital.projection import (
    CONTRIBUTION_COLUMNS,
    WEEK_COLUMNS,
    CapitalFold,
    CapitalProjection,
)
from shared.projections.capital.reads import read_capital, read_recent
from shared.projections.capital.state import (
    CREDIT_WINDOW,
    MICRO,
    CapitalState,
)

__all__ = [
    "CONTRIBUTION_COLUMNS",
    "CREDIT_WINDOW",
    "EPOCH_MONDAY",
    "MICRO",
    "WEEK_COLUMNS",
    "CapitalFold",
    "CapitalProjection",
    "CapitalState",
    "read_capital",
    "read_recent",
    "week_index",
    "week_label",
]
