"""Levers: per-person working hours (``WorkingHoursSet``) get a table of their own in the
levers projection, ``lever_working_hours``. A new generation (a rebuild, or a fresh
database) creates it from ``LeversProjection.tables``; this adds it, empty, to the live
generation of a database where the projection already runs. Empty is exact: no
``WorkingHoursSet`` event existed before this release.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        DO $$
        DECLARE live integer;
        BEGIN
            SELECT generation INTO live FROM projections WHERE name = 'levers';
            IF live IS NOT NULL
               AND to_regclass(format('lever_working_hours__g%s', live)) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE lever_working_hours__g%s (person_id uuid NOT NULL, '
                    'from_week integer NOT NULL, start_minute integer NOT NULL, '
                    'end_minute integer NOT NULL, working_days integer[] NOT NULL, '
                    'time_zone text NOT NULL, PRIMARY KEY (person_id, from_week))', live);
                EXECUTE format(
                    'CREATE OR REPLACE VIEW lever_working_hours AS '
                    'SELECT * FROM lever_working_hours__g%s', live);
            END IF;
        END $$;
        """
    )


def downgrade() -> None:
    # The table belongs to the projection's generation; a rebuild of the old release's
    # projection leaves it unused. Nothing to undo.
    pass
