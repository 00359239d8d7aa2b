"""Drop the stored organisation lever views (lever_org_views, lever_org_view_weeks): pages and
the API read the weekly releases (shared/releases) since issue 17, and nothing reads or
refreshes the stored views any more. Derived data: dropping them loses nothing; the downgrade
recreates them empty as 0012 left them (a scheduler of that version refills them).

Revision ID: 0021
Revises: 0017
"""

from alembic import op

revision = "0021"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        DROP TABLE IF EXISTS lever_org_view_weeks;
        DROP TABLE IF EXISTS lever_org_views;
        """
    )


def downgrade() -> None:
    op.execute(
        """
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
        ALTER TABLE lever_org_view_weeks ALTER COLUMN teams SET STORAGE EXTERNAL;
        """
    )
