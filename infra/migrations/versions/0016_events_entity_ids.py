"""The ids a feedback request, an experiment and an outcome are created with, indexed by type:
an import may name its own ids, and the command layer checks that an id it creates is not
another stream's (shared/commands/import_references.py), in one index lookup per type.
Partial indexes: the other event types (actions and meetings, the busiest) pay nothing on
append.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ENTITY_IDS = (
    ("FeedbackRequested", "request_id"),
    ("ExperimentStarted", "experiment_id"),
    ("OutcomeRecorded", "outcome_id"),
)


def upgrade() -> None:
    for kind, field in ENTITY_IDS:
        op.execute(
            f"CREATE INDEX IF NOT EXISTS events_{field}s ON events ((data->>'{field}')) "
            f"WHERE type = '{kind}'"
        )


def downgrade() -> None:
    for _, field in ENTITY_IDS:
        op.execute(f"DROP INDEX IF EXISTS events_{field}s")
