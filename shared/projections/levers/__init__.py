"""The levers read model: team levers per ISO week (the source of the weekly releases).

Modules, one responsibility each:

* :mod:`.schema`: tables, handled events, the columns of the sums;
* :mod:`.membership`: which lever team a person counts in, week by week;
* :mod:`.calendar`: where a meeting falls, working hours by week, a person-week's load;
* :mod:`.transitions` (records in :mod:`.facts`): what each event does, written once for
  catch-up and rebuild;
* :mod:`.incremental` (with :mod:`.incremental_people`, :mod:`.incremental_calendar`):
  catch-up, a batch against the stored tables;
* :mod:`.rebuild` (with :mod:`.week_rows`): a rebuild, the whole log in memory, then COPY;
* :mod:`.projection`: the ``levers`` projection;
* :mod:`.reads`: a team's ancestry, a row's sums as the domain's.

Nothing shows the read model's figures directly: pages and the API read the weekly releases
(shared/releases), computed from it, protected and noised once per week.
"""

from __future__ import annotations

from shared.projections.levers.projection import LeversProjection
from shared.projections.levers.reads import team_ancestry, week_sums
from shared.projections.levers.rebuild import LeversFold
from shared.projections.levers.schema import MILLI, SUM_COLUMNS

__all__ = [
    "MILLI",
    "SUM_COLUMNS",
    "LeversFold",
    "LeversProjection",
    "team_ancestry",
    "week_sums",
]
