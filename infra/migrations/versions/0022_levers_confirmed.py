"""Levers read confirmed behaviour: ``lever_rewards`` gains ``named`` (the outcome names a
confirmer) and ``confirmed``, ``lever_actions`` ``declined`` (by the counterpart) and
``reward_confirmed``, ``lever_person_weeks`` ``confirmed_rewarded`` and ``lever_team_weeks``
``confirmed_rewarded_actions``. A new generation (a rebuild, or a fresh database) creates
them from ``LeversProjection.tables``; this adds them to the live generation (and to one
being rebuilt) where the projection already runs. Their defaults read every stored reward
as self-reported and no action as declined, as before the upgrade, until
``compound projections rebuild levers`` recomputes history with the confirmations.

Revision ID: 0022
Revises: 0021
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

COLUMNS = {
    "lever_rewards": (
        "ADD COLUMN IF NOT EXISTS named boolean NOT NULL DEFAULT false, "
        "ADD COLUMN IF NOT EXISTS confirmed boolean NOT NULL DEFAULT false"
    ),
    "lever_actions": (
        "ADD COLUMN IF NOT EXISTS declined boolean NOT NULL DEFAULT false, "
        "ADD COLUMN IF NOT EXISTS reward_confirmed boolean NOT NULL DEFAULT false"
    ),
    "lever_person_weeks": "ADD COLUMN IF NOT EXISTS confirmed_rewarded integer NOT NULL DEFAULT 0",
    "lever_team_weeks": (
        "ADD COLUMN IF NOT EXISTS confirmed_rewarded_actions integer NOT NULL DEFAULT 0"
    ),
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
