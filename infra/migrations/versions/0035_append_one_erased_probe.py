"""``compound_append_one()`` looks for an erased subject one subject at a time (issue #20).

The function (migration 0013, its seal since 0034) refused an append for an erased subject
with ``subject_id = ANY(p_subjects)``. PL/pgSQL caches that statement's plan, and the plan
cache weighs a generic plan (any array: ten elements, as the planner assumes) against the
custom plans of the arrays it was called with (one subject, for an action): the generic
plan looked ten times dearer, so the statement was planned again on every call, about a
tenth of the instructions of an action's append (callgrind, docs/benchmarks.md). The same
check, one subject at a time with a scalar parameter, is planned once per connection. It
still runs before the position lock and refuses the same appends with the same error
(``CP410``); a NULL array checks nothing, as before.

The downgrade puts the previous check back.

Revision ID: 0035
Revises: 0034
"""

from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

APPEND_LOCK_KEY = 7_406_021_001  # as in 0001: the lock serialising position allocation

# compound_append_one() as in migration 0034, {declare} and {probe} aside.
_APPEND_ONE = """
CREATE OR REPLACE FUNCTION compound_append_one(
    p_tenant uuid, p_stream text, p_expected integer, p_event_id uuid, p_type text,
    p_schema_version integer, p_data jsonb, p_metadata jsonb,
    p_occurred_at timestamptz, p_subjects uuid[], p_idempotent boolean,
    p_seal bytea DEFAULT NULL,
    OUT out_position bigint, OUT out_version integer, OUT out_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_current integer;{declare}
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
    -- Personal data was encrypted with a key that must not have been erased since.{probe}
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
                        schema_version, data, metadata, occurred_at, seal)
        VALUES (p_event_id, p_tenant, p_stream, v_current + 1, p_type,
                p_schema_version, p_data, p_metadata, p_occurred_at, p_seal)
        RETURNING position, version INTO out_position, out_version;
    out_replayed := false;
END $$;
"""

# One subject at a time: a scalar parameter, so the cached plan is generic (planned once).
_PROBE_EACH = """
    IF p_subjects IS NOT NULL THEN
        FOREACH v_subject IN ARRAY p_subjects LOOP
            IF EXISTS (
                SELECT 1 FROM data_keys
                WHERE subject_id = v_subject AND wrapped_key IS NULL) THEN
                RAISE EXCEPTION 'a subject of this append was erased'
                    USING ERRCODE = 'CP410';
            END IF;
        END LOOP;
    END IF;"""

# As in migration 0013: the whole array at once (planned again on every call).
_PROBE_ANY = """
    IF p_subjects IS NOT NULL AND EXISTS (
        SELECT 1 FROM data_keys
        WHERE subject_id = ANY(p_subjects) AND wrapped_key IS NULL) THEN
        RAISE EXCEPTION 'a subject of this append was erased'
            USING ERRCODE = 'CP410';
    END IF;"""


def append_one_sql(each: bool) -> str:
    """compound_append_one()'s definition: the probe one subject at a time (``each``, this
    migration) or over the whole array (0034)."""
    return _APPEND_ONE.format(
        lock=APPEND_LOCK_KEY,
        declare="\n    v_subject uuid;" if each else "",
        probe=_PROBE_EACH if each else _PROBE_ANY,
    )


def upgrade() -> None:
    op.execute(append_one_sql(each=True))


def downgrade() -> None:
    op.execute(append_one_sql(each=False))
