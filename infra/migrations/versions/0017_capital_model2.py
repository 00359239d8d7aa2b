"""Capital, model 2: contributions gain ``minutes``, ``audience``, ``counterpart_id`` and
``confirmed``; ``capital_requests`` (feedback requests naming an action) and
``capital_absences`` (declared absences) are new. A new generation (a rebuild, or a fresh
database) creates all of it from ``CapitalProjection.tables``; this adds it to the live
generation (and to one being rebuilt) of a database where the projection already runs,
filling ``minutes`` and ``audience`` of the stored actions from their events, so reads
score them under model 2 at once. ``compound projections rebuild capital`` then recomputes
history under model 2 (confirmations, requests and absences logged before the upgrade,
weekly rows in model 2's units).

Revision ID: 0017
Revises: 0018
"""

from alembic import op

revision = "0017"
down_revision = "0018"
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
                IF to_regclass(format('capital_contributions__g%s', g)) IS NULL THEN
                    CONTINUE;  -- a rebuild that has not created its tables yet
                END IF;
                EXECUTE format(
                    'ALTER TABLE capital_contributions__g%s '
                    'ADD COLUMN IF NOT EXISTS minutes integer, '
                    'ADD COLUMN IF NOT EXISTS audience text, '
                    'ADD COLUMN IF NOT EXISTS counterpart_id uuid, '
                    'ADD COLUMN IF NOT EXISTS confirmed boolean NOT NULL DEFAULT false', g);
                EXECUTE format(
                    'UPDATE capital_contributions__g%s c SET '
                    'minutes = (e.data->>''minutes'')::integer, audience = e.data->>''audience'', '
                    'counterpart_id = (e.data->>''counterpart_id'')::uuid '
                    'FROM events e WHERE e.event_id = c.event_id AND c.kind = ''action'' '
                    'AND c.minutes IS NULL', g);
                EXECUTE format(
                    'CREATE INDEX IF NOT EXISTS capital_contributions__g%s_i2 '
                    'ON capital_contributions__g%s (counterpart_id)', g, g);
                EXECUTE format(
                    'CREATE TABLE IF NOT EXISTS capital_requests__g%s (event_id uuid PRIMARY KEY, '
                    'tenant_id uuid NOT NULL, person_id uuid NOT NULL, '
                    'request_id uuid NOT NULL, action_id uuid NOT NULL, '
                    'model_version integer NOT NULL)', g);
                EXECUTE format(
                    'CREATE INDEX IF NOT EXISTS capital_requests__g%s_i0 '
                    'ON capital_requests__g%s (person_id, request_id)', g, g);
                EXECUTE format(
                    'CREATE TABLE IF NOT EXISTS capital_absences__g%s (tenant_id uuid NOT NULL, '
                    'person_id uuid NOT NULL, absence_id uuid NOT NULL, starts_on date NOT NULL, '
                    'ends_on date NOT NULL, model_version integer NOT NULL, '
                    'PRIMARY KEY (person_id, absence_id))', g);
            END LOOP;
            SELECT generation INTO g FROM projections WHERE name = 'capital';
            IF g IS NOT NULL THEN
                EXECUTE format(
                    'CREATE OR REPLACE VIEW capital_contributions AS '
                    'SELECT * FROM capital_contributions__g%s', g);
                EXECUTE format(
                    'CREATE OR REPLACE VIEW capital_requests AS '
                    'SELECT * FROM capital_requests__g%s', g);
                EXECUTE format(
                    'CREATE OR REPLACE VIEW capital_absences AS '
                    'SELECT * FROM capital_absences__g%s', g);
            END IF;
        END $$;
        """
    )


def downgrade() -> None:
    # The columns and tables belong to the projection's generation; the old release
    # reads neither.
    pass
