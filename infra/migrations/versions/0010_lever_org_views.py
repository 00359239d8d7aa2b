"""Stored organisation lever views: the suppressed organisation view (every team's history
walked for the week-over-week rule, seconds for a thousand teams) kept per organisation,
range of weeks and k, with the levers position it reflects and what it took to compute.
Pages and the API read it; the scheduler recomputes the ones the projection has moved past
(shared/projections/levers.py).
Derived data: dropping every row loses nothing.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE lever_org_views (
            tenant_id    uuid        NOT NULL,
            first_week   integer     NOT NULL,
            last_week    integer     NOT NULL,
            k            integer     NOT NULL,
            position     bigint      NOT NULL,
            view         text        NOT NULL,
            compute_ms   integer     NOT NULL DEFAULT 0,
            read_at      timestamptz NOT NULL DEFAULT now(),
            refreshed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, first_week, last_week, k)
        );
        -- read whole on every cold page: kept uncompressed, and as text (no jsonb to convert)
        ALTER TABLE lever_org_views ALTER COLUMN view SET STORAGE EXTERNAL;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE lever_org_views")
