"""The event store: the append-only events table, data keys for crypto-shredding.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The lock serialising position allocation; docs/events.md ("Positions") explains it.
APPEND_LOCK_KEY = 7_406_021_001


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE events (
            position       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id       uuid        NOT NULL UNIQUE,
            tenant_id      uuid        NOT NULL,
            stream_id      text        NOT NULL,
            version        integer     NOT NULL CHECK (version > 0),
            type           text        NOT NULL,
            schema_version integer     NOT NULL CHECK (schema_version > 0),
            data           jsonb       NOT NULL,
            metadata       jsonb       NOT NULL,
            occurred_at    timestamptz NOT NULL,
            recorded_at    timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT events_stream_version UNIQUE (stream_id, version)
        );
        CREATE INDEX events_tenant_position ON events (tenant_id, position);

        CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP
                USING ERRCODE = 'CP001';
        END $$;
        CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
            FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
        CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

        CREATE TABLE data_keys (
            subject_id  uuid PRIMARY KEY,
            tenant_id   uuid        NOT NULL,
            wrapped_key bytea,
            created_at  timestamptz NOT NULL DEFAULT now(),
            erased_at   timestamptz,
            CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
        );
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION compound_append(
            p_tenant uuid, p_stream text, p_expected integer, p_events jsonb,
            p_subjects uuid[] DEFAULT '{{}}', p_idempotent boolean DEFAULT true
        ) RETURNS TABLE (out_position bigint, out_version integer, out_replayed boolean)
        LANGUAGE plpgsql AS $$
        DECLARE
            v_current integer;
        BEGIN
            -- A retried call (same derived event ids) returns what the first one wrote.
            IF p_idempotent AND EXISTS (
                    SELECT 1 FROM events
                    WHERE event_id = (p_events -> 0 ->> 'event_id')::uuid) THEN
                RETURN QUERY
                    SELECT e.position, e.version, true FROM events e
                    WHERE e.event_id IN (SELECT (x ->> 'event_id')::uuid
                                         FROM jsonb_array_elements(p_events) x)
                    ORDER BY e.position;
                RETURN;
            END IF;
            -- Personal data was encrypted with a key that must not have been erased since.
            IF cardinality(p_subjects) > 0 AND EXISTS (
                SELECT 1 FROM data_keys
                WHERE subject_id = ANY(p_subjects) AND wrapped_key IS NULL) THEN
                RAISE EXCEPTION 'a subject of this append was erased'
                    USING ERRCODE = 'CP410';
            END IF;
            -- Positions are taken and committed one appender at a time, so commit order
            -- is position order and no reader can see position n+1 before n. Each statement
            -- below runs in a snapshot taken after the lock, so it sees the latest version.
            PERFORM pg_advisory_xact_lock({APPEND_LOCK_KEY});
            SELECT coalesce(max(version), 0) INTO v_current FROM events
                WHERE stream_id = p_stream;
            IF p_expected IS NOT NULL AND v_current <> p_expected THEN
                RAISE EXCEPTION 'stream % is at version %, expected %',
                    p_stream, v_current, p_expected
                    USING ERRCODE = 'CP409', DETAIL = v_current::text;
            END IF;
            RETURN QUERY
                INSERT INTO events (event_id, tenant_id, stream_id, version, type,
                                    schema_version, data, metadata, occurred_at)
                SELECT (x ->> 'event_id')::uuid, p_tenant, p_stream, v_current + t.ord::integer,
                       x ->> 'type', (x ->> 'schema_version')::integer, x -> 'data',
                       x -> 'metadata', (x ->> 'occurred_at')::timestamptz
                FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(x, ord)
                ORDER BY t.ord
                RETURNING position, version, false;
        END $$;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP FUNCTION compound_append(uuid, text, integer, jsonb, uuid[], boolean);
        DROP TABLE data_keys;
        DROP TABLE events;
        DROP FUNCTION events_are_append_only();
        """
    )
