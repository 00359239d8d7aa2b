"""The sealed behaviour in a ``bytea`` column of its own: ``events.seal`` (issue 16).

Until now an event's sealed behaviour (shared/eventlog/sealing.py) was the payload's ``sealed``
member, ``v2:`` + base64(nonce + ciphertext). Every read parsed that long string out of the
JSON and decoded its base64: about a fifth of the decoder's work on a projection rebuild. The
seal is now the ``seal`` column: a version byte (2), the nonce and the ciphertext; NULL for an
event without behaviour. The payload keeps no ``sealed`` member.

* ``seal bytea`` is added (nullable: most event types seal nothing);
* every stored ``sealed`` member moves into it and leaves the payload, in one UPDATE with
  migration 0001's append-only trigger lifted for this transaction only (the rows are
  rewritten: on a large log, ``VACUUM`` afterwards gives the old row versions' space back).
  The indexes on named members (0016, 0018) do not look at ``sealed``;
* ``compound_append_one()`` (0013) takes the seal as its last parameter and
  ``compound_append()`` (0001) reads each event's ``seal`` member (hex) of its JSON array.

The downgrade puts the member back from the column, as the release before wrote it.

Revision ID: 0034
Revises: 0033
"""

from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

APPEND_LOCK_KEY = 7_406_021_001  # as in 0001: the lock serialising position allocation

_LIFTED = "ALTER TABLE events DISABLE TRIGGER events_no_update_delete"
_RESTORED = "ALTER TABLE events ENABLE TRIGGER events_no_update_delete"

# compound_append_one()'s checks, as in migration 0013; {seal_param}, {seal_column} and
# {seal_value} are empty before this migration.
_APPEND_ONE = """
CREATE FUNCTION compound_append_one(
    p_tenant uuid, p_stream text, p_expected integer, p_event_id uuid, p_type text,
    p_schema_version integer, p_data jsonb, p_metadata jsonb,
    p_occurred_at timestamptz, p_subjects uuid[], p_idempotent boolean{seal_param},
    OUT out_position bigint, OUT out_version integer, OUT out_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_current integer;
BEGIN
    -- A retried call (the same derived event id) returns what the first one wrote.
    IF p_idempotent THEN
        SELECT e.position, e.version INTO out_position, out_version
            FROM events e WHERE e.event_id = p_event_id;
        IF FOUND THEN
            out_replayed := true;
            RETURN;
        END IF;
    END IF;
    -- Personal data was encrypted with a key that must not have been erased since.
    IF p_subjects IS NOT NULL AND EXISTS (
        SELECT 1 FROM data_keys
        WHERE subject_id = ANY(p_subjects) AND wrapped_key IS NULL) THEN
        RAISE EXCEPTION 'a subject of this append was erased'
            USING ERRCODE = 'CP410';
    END IF;
    -- As in compound_append(): positions are taken and committed one appender at a
    -- time, and the statements after the lock run in snapshots taken after it.
    PERFORM pg_advisory_xact_lock({lock});
    SELECT coalesce(max(version), 0) INTO v_current FROM events
        WHERE stream_id = p_stream;
    IF p_expected IS NOT NULL AND v_current <> p_expected THEN
        RAISE EXCEPTION 'stream % is at version %, expected %',
            p_stream, v_current, p_expected
            USING ERRCODE = 'CP409', DETAIL = v_current::text;
    END IF;
    INSERT INTO events (event_id, tenant_id, stream_id, version, type,
                        schema_version, data, metadata, occurred_at{seal_column})
        VALUES (p_event_id, p_tenant, p_stream, v_current + 1, p_type,
                p_schema_version, p_data, p_metadata, p_occurred_at{seal_value})
        RETURNING position, version INTO out_position, out_version;
    out_replayed := false;
END $$;
"""

# compound_append(), as in migration 0001, with the same placeholders.
_APPEND_MANY = """
CREATE OR REPLACE FUNCTION compound_append(
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
    PERFORM pg_advisory_xact_lock({lock});
    SELECT coalesce(max(version), 0) INTO v_current FROM events
        WHERE stream_id = p_stream;
    IF p_expected IS NOT NULL AND v_current <> p_expected THEN
        RAISE EXCEPTION 'stream % is at version %, expected %',
            p_stream, v_current, p_expected
            USING ERRCODE = 'CP409', DETAIL = v_current::text;
    END IF;
    RETURN QUERY
        INSERT INTO events (event_id, tenant_id, stream_id, version, type,
                            schema_version, data, metadata, occurred_at{seal_column})
        SELECT (x ->> 'event_id')::uuid, p_tenant, p_stream, v_current + t.ord::integer,
               x ->> 'type', (x ->> 'schema_version')::integer, x -> 'data',
               x -> 'metadata', (x ->> 'occurred_at')::timestamptz{seal_member}
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(x, ord)
        ORDER BY t.ord
        RETURNING position, version, false;
END $$;
"""

_OLD_ONE = (
    "compound_append_one(uuid, text, integer, uuid, text, integer, jsonb, jsonb, "
    "timestamptz, uuid[], boolean"
)


def _functions(sealed: bool) -> str:
    """Both append functions' SQL, with the seal column (``sealed``) or as before 0034."""
    column = ", seal" if sealed else ""
    one = _APPEND_ONE.format(
        lock=APPEND_LOCK_KEY,
        seal_param=", p_seal bytea DEFAULT NULL" if sealed else "",
        seal_column=column,
        seal_value=", p_seal" if sealed else "",
    )
    many = _APPEND_MANY.format(
        lock=APPEND_LOCK_KEY,
        seal_column=column,
        seal_member=",\n               decode(x ->> 'seal', 'hex')" if sealed else "",
    )
    return one + many


def upgrade() -> None:
    op.execute("ALTER TABLE events ADD COLUMN seal bytea")
    op.execute(_LIFTED)
    op.execute(
        "UPDATE events SET seal = '\\x02'::bytea || decode(substr(data->>'sealed', 4), 'base64'), "
        "data = data - 'sealed' WHERE data ? 'sealed'"
    )
    op.execute(_RESTORED)
    op.execute(f"DROP FUNCTION {_OLD_ONE})")
    op.execute(_functions(sealed=True))


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {_OLD_ONE}, bytea)")
    op.execute(_functions(sealed=False))
    op.execute(_LIFTED)
    op.execute(
        "UPDATE events SET data = data || jsonb_build_object('sealed', "
        "'v2:' || translate(encode(substr(seal, 2), 'base64'), E'\\n', '')) "
        "WHERE seal IS NOT NULL"
    )
    op.execute(_RESTORED)
    op.execute("ALTER TABLE events DROP COLUMN seal")
