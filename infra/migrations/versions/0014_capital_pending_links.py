"""Capital: outcomes that name an action not logged yet wait in ``capital_pending_links``
until the action is logged (an import may put an outcome before its action; catch-up and
rebuild now credit it alike). A new generation (a rebuild, or a fresh database) creates the
table from ``CapitalProjection.tables``; this adds it to the live generation (and to one
being rebuilt) of a database where the projection already runs, filled with the outcomes
that name an action the projection holds no row of: exactly what the new code would hold.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        DO $$
        DECLARE g integer;
        BEGIN
            FOR g IN
                SELECT generation FROM projections WHERE name = 'capital'
                UNION SELECT rebuilding FROM projections
                      WHERE name = 'capital' AND rebuilding IS NOT NULL
            LOOP
                IF to_regclass(format('capital_pending_links__g%s', g)) IS NULL THEN
                    EXECUTE format(
                        'CREATE TABLE capital_pending_links__g%s (event_id uuid PRIMARY KEY, '
                        'tenant_id uuid NOT NULL, person_id uuid NOT NULL, '
                        'action_id uuid NOT NULL)', g);
                    EXECUTE format(
                        'CREATE INDEX capital_pending_links__g%s_i0 '
                        'ON capital_pending_links__g%s (action_id)', g, g);
                    EXECUTE format(
                        'INSERT INTO capital_pending_links__g%s '
                        'SELECT e.event_id, e.tenant_id, (e.data->>''person_id'')::uuid, '
                        '(e.data->>''action_id'')::uuid FROM events e '
                        'WHERE e.type = ''OutcomeRecorded'' '
                        'AND e.data->>''action_id'' IS NOT NULL '
                        'AND NOT EXISTS (SELECT 1 FROM capital_contributions__g%s c '
                        'WHERE c.kind = ''action'' '
                        'AND c.ref_id = (e.data->>''action_id'')::uuid)', g, g);
                END IF;
            END LOOP;
            SELECT generation INTO g FROM projections WHERE name = 'capital';
            IF g IS NOT NULL THEN
                EXECUTE format(
                    'CREATE OR REPLACE VIEW capital_pending_links AS '
                    'SELECT * FROM capital_pending_links__g%s', g);
            END IF;
        END $$;
        """
    )


def downgrade() -> None:
    # The table belongs to the projection's generation; the old release never reads it.
    pass
