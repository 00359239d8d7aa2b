"""The projections registry: one row per projection with its checkpoint and status.

Projection tables themselves are created by the runtime per generation (``{table}__g{n}``,
read through the view ``{table}``), so a rebuild can build the next generation beside the
live one (shared/projections/runtime.py).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE projections (
            name             text PRIMARY KEY,
            version          integer NOT NULL,
            generation       integer NOT NULL,
            position         bigint  NOT NULL DEFAULT 0,
            status           text    NOT NULL DEFAULT 'live' CHECK (status IN ('live', 'failed')),
            last_error       text,
            error_position   bigint,
            rebuilding       integer,
            rebuild_position bigint,
            updated_at       timestamptz NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE projections")
