"""Projection partitions: one checkpoint per (projection, partition).

A projection's events are split into ``projections.partitions`` partitions by a hash of
their tenant id (shared/projections/partitions.py); each partition has its own checkpoint
here, locked while a batch of it is applied, so worker processes apply different partitions
at once. ``projections.position`` stays the projection's position for readers: the lowest of
its partitions' (docs/scaling.md). Existing projections start with one partition at their
checkpoint; the runtime splits them when their partitions line up.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE projections
            ADD COLUMN partitions integer NOT NULL DEFAULT 1 CHECK (partitions >= 1);

        CREATE TABLE projection_partitions (
            projection  text        NOT NULL REFERENCES projections (name) ON DELETE CASCADE,
            partition   integer     NOT NULL CHECK (partition >= 0),
            position    bigint      NOT NULL DEFAULT 0,
            updated_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (projection, partition)
        );
        INSERT INTO projection_partitions (projection, partition, position)
            SELECT name, 0, position FROM projections;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE projection_partitions; ALTER TABLE projections DROP COLUMN partitions")
