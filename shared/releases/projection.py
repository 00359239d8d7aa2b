"""The ``releases`` projection: every published release, as managers read it.

One row per node (team, or the organisation: its tenant id) and week, written once from its
``LeverReleasePublished`` and never changed: one event per release stream, so every order
of batches and a rebuild hold the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, text

from shared.domain.weeks import label_index
from shared.eventlog import RecordedEvent
from shared.projections.projection import Projection

TABLES = {
    "lever_releases": """tenant_id uuid NOT NULL, node_id uuid NOT NULL,
        week_index integer NOT NULL, k integer NOT NULL, epsilon_milli integer NOT NULL,
        model_version integer NOT NULL, release jsonb NOT NULL, position bigint NOT NULL,
        PRIMARY KEY (node_id, week_index)""",
}


class ReleasesProjection(Projection):
    """The released figures (table ``lever_releases``)."""

    name = "releases"
    version = 1
    handles = frozenset({"LeverReleasePublished"})
    tables = TABLES
    indexes = {"lever_releases": ["tenant_id, week_index"]}

    def apply(
        self, conn: Connection, events: Sequence[RecordedEvent], tables: Mapping[str, str]
    ) -> None:
        """Insert each release (a row already there stays as it is).

        Parameters:
            conn: the batch's transaction.
            events: ``LeverReleasePublished`` events, in log order.
            tables: base table name -> physical name.
        """
        rows = [
            {
                "tenant": str(event.tenant_id),
                "node": event.data["team_id"] or str(event.tenant_id),
                "week": label_index(event.data["week"]),
                "k": event.data["k"],
                "epsilon": event.data["epsilon_milli"],
                "model": event.data["model_version"],
                "release": json.dumps(json.loads(event.data["release"])),
                "position": event.position,
            }
            for event in events
        ]
        if not rows:
            return
        conn.execute(
            text(
                f"INSERT INTO {tables['lever_releases']} (tenant_id, node_id, week_index, k,"
                " epsilon_milli, model_version, release, position) VALUES (:tenant, :node,"
                " :week, :k, :epsilon, :model, CAST(:release AS jsonb), :position)"
                " ON CONFLICT (node_id, week_index) DO NOTHING"
            ),
            rows,
        )
