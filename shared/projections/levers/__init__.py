"""The levers read model: team levers per ISO week, and their suppressed reads.

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
* :mod:`.rollup`, :mod:`.reads`, :mod:`.org_views` (with :mod:`.org_view_store`): the read
  side (sums rolled up over the team tree and protected, team and organisation reads, stored
  organisation views).

Reads (:func:`read_team_levers`, :func:`read_org_levers`) return cells already suppressed by
:func:`shared.domain.privacy.protect_tree`: pages and the API share this one privacy path.
"""

from __future__ import annotations

from shared.projections.levers.org_view_store import STORED_WEEKS, Teams
from shared.projections.levers.org_views import (
    CHEAP_ORG_VIEW_MS,
    read_org_levers,
    refresh_org_views,
)
from shared.projections.levers.projection import LeversProjection
from shared.projections.levers.reads import ORG, read_team_levers, team_ancestry, week_range
from shared.projections.levers.rebuild import LeversFold
from shared.projections.levers.rollup import week_sums
from shared.projections.levers.schema import MILLI, SUM_COLUMNS

__all__ = [
    "CHEAP_ORG_VIEW_MS",
    "MILLI",
    "ORG",
    "STORED_WEEKS",
    "SUM_COLUMNS",
    "LeversFold",
    "LeversProjection",
    "Teams",
    "read_org_levers",
    "read_team_levers",
    "refresh_org_views",
    "team_ancestry",
    "week_range",
    "week_sums",
]
