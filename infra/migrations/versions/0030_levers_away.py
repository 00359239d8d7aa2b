"""Levers read calendars' out-of-office blocks (issue #24): ``lever_meetings`` gains
``away`` (the row is an ``OutOfOfficeObserved`` block, which reduces the working hours of the
weeks it covers, not a meeting). A new generation (a rebuild, or a fresh database) creates it
from ``LeversProjection.tables``; this adds it to the live generation (and to one being
rebuilt) where the projection already runs. Its default reads every stored row as a meeting,
as before the upgrade: the log held no block before.

Revision ID: 0030
Revises: 0029
"""

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

COLUMNS = {
    "lever_meetings": "ADD COLUMN IF NOT EXISTS away boolean NOT NULL DEFAULT false",
}
"""Table -> the ``ALTER TABLE`` clauses adding its columns."""


def upgrade() -> None:
    for table, clauses in COLUMNS.items():
        op.execute(
            f"""
            DO $$
            DECLARE g integer;
            BEGIN
                FOR g IN
                    SELECT generation FROM projections WHERE name = 'levers'
                    UNION SELECT rebuilding FROM projections
                          WHERE name = 'levers' AND rebuilding IS NOT NULL
                LOOP
                    IF to_regclass(format('{table}__g%s', g)) IS NULL THEN
                        CONTINUE;  -- a rebuild that has not created its tables yet
                    END IF;
                    EXECUTE format('ALTER TABLE {table}__g%s {clauses}', g);
                END LOOP;
                SELECT generation INTO g FROM projections WHERE name = 'levers';
                IF g IS NOT NULL AND to_regclass(format('{table}__g%s', g)) IS NOT NULL THEN
                    EXECUTE format(
                        'CREATE OR REPLACE VIEW {table} AS SELECT * FROM {table}__g%s', g);
                END IF;
            END $$;
            """
        )


def downgrade() -> None:
    # The columns belong to the projection's generation; the old release reads none of them.
    pass
