"""Poison events quarantined per tenant: one row per projection, generation and tenant whose
part of the projection waits at an event it could not apply (shared/projections/quarantine.py).

``position`` is the event that failed; every later event of that tenant for that projection is
held back (re-read from the log at ``compound projections retry NAME --tenant ID``);
``held_events`` counts them, the failed one included. A row belongs to a generation of the
projection's tables: a rebuild records its own and replaces the live one's at the switch.

``projection_skipped_events``: poison events an operator chose to skip (``retry NAME --tenant
ID --skip-event``, after a compensating event): every generation's catch-up and rebuild leaves
them out alike.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE projection_quarantine (
            projection     text        NOT NULL,
            generation     integer     NOT NULL,
            tenant_id      uuid        NOT NULL,
            position       bigint      NOT NULL,
            event_id       uuid        NOT NULL,
            event_type     text        NOT NULL,
            error          text        NOT NULL,
            quarantined_at timestamptz NOT NULL DEFAULT now(),
            held_events    integer     NOT NULL DEFAULT 1,
            retried_at     timestamptz,
            PRIMARY KEY (projection, generation, tenant_id)
        );
        CREATE INDEX projection_quarantine_tenant ON projection_quarantine (tenant_id);
        CREATE TABLE projection_skipped_events (
            projection     text        NOT NULL,
            event_id       uuid        NOT NULL,
            tenant_id      uuid        NOT NULL,
            position       bigint      NOT NULL,
            event_type     text        NOT NULL,
            error          text        NOT NULL,
            skipped_at     timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (projection, event_id)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE projection_skipped_events")
    op.execute("DROP TABLE projection_quarantine")
