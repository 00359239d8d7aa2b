"""Stored organisation lever views, one row per week: the suppressed organisation view (every
team's history walked for the week-over-week rule, seconds for a thousand teams) kept per
organisation and k as a state row (the levers position it reflects, the weeks it covers, its
top-level teams, what it took to compute) and one row per week (the organisation's cells and
the top-level teams' cells of that week, as JSON text), with a digest of what it was computed
from (``source``: the organisation's lever_team_weeks and teams). A page reads only the weeks
it shows: a lever detail the organisation's 26 weeks, an overview its 12 and the teams of one
week.
Replaces 0010's one row per range of weeks (any range is now served from the same weeks: the
protection of a week never depends on the range asked for).
Derived data: dropping every row loses nothing (shared/projections/lever_views.py).

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        DROP TABLE lever_org_views;
        CREATE TABLE lever_org_views (
            tenant_id     uuid        NOT NULL,
            k             integer     NOT NULL,
            position      bigint      NOT NULL,
            first_week    integer     NOT NULL,
            last_week     integer     NOT NULL,
            model_version integer     NOT NULL,
            teams         text        NOT NULL,
            source        bytea       NOT NULL,
            compute_ms    integer     NOT NULL DEFAULT 0,
            read_at       timestamptz NOT NULL DEFAULT now(),
            refreshed_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, k)
        );
        CREATE TABLE lever_org_view_weeks (
            tenant_id  uuid    NOT NULL,
            k          integer NOT NULL,
            week_index integer NOT NULL,
            digest     bytea   NOT NULL,
            org        text    NOT NULL,
            teams      text    NOT NULL,
            PRIMARY KEY (tenant_id, k, week_index),
            FOREIGN KEY (tenant_id, k) REFERENCES lever_org_views ON DELETE CASCADE
        );
        -- a week's teams are read whole by an overview: kept uncompressed (no jsonb to convert)
        ALTER TABLE lever_org_view_weeks ALTER COLUMN teams SET STORAGE EXTERNAL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE lever_org_view_weeks;
        DROP TABLE lever_org_views;
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
        ALTER TABLE lever_org_views ALTER COLUMN view SET STORAGE EXTERNAL;
        """
    )
