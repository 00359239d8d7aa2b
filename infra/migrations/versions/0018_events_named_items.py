"""The events that name someone to confirm them, indexed by their item's id: an outcome
with a confirmer, a feedback request with a colleague, a relationship action with a
counterpart (shared/eventlog/named_items.py). The confirming side knows the item's id only;
events that name nobody stay out of the (partial) index.

Revision ID: 0018
Revises: 0016
"""

from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX events_named_items ON events (
            tenant_id, type,
            (coalesce(data->>'outcome_id', data->>'action_id', data->>'request_id')))
        WHERE type IN ('OutcomeRecorded', 'MicroActionLogged', 'FeedbackRequested')
          AND data ?| array['counterpart_id', 'confirmer_id', 'confirmer_email', 'colleague_id',
                            'colleague_email']"""
    )


def downgrade() -> None:
    op.execute("DROP INDEX events_named_items")
