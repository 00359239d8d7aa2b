"""Journal read models: experiments, the feedback loop and weekly plan progress.

Three projections, one module each, with tables of their own. None of them stores personal
text: a hypothesis, a reflection, a feedback question or comment and a plan's labels stay
encrypted in the log (a read fetches them from there by the stored position). The rows hold
ids, dates, tactics and counts only, so ``PersonErased`` has nothing to remove and aggregates
keep their history; the projections do not even handle it.

Each projection's state module folds events in memory (each event's effect written once);
catch-up writes a batch's state with one statement per table, a rebuild the whole log's with
COPY. Every row is the same whether the events arrive in one batch or many.
"""

from __future__ import annotations

from shared.projections.journal.common import MODEL_VERSION, utc_day, utc_week
from shared.projections.journal.experiment_state import (
    BEFORE_WEEKS,
    OUTCOME_SIGNALS,
    SIGNALS,
    direction,
    signal_of,
)
from shared.projections.journal.experiments import ExperimentsFold, ExperimentsProjection
from shared.projections.journal.feedback_loop import FeedbackLoopFold, FeedbackLoopProjection
from shared.projections.journal.plan_progress import (
    PlanProgressFold,
    PlanProgressProjection,
    plan_progress,
)
from shared.projections.journal.reads import (
    read_experiments,
    read_feedback,
    read_like_for_like,
    read_plan,
)

__all__ = [
    "BEFORE_WEEKS",
    "MODEL_VERSION",
    "OUTCOME_SIGNALS",
    "SIGNALS",
    "ExperimentsFold",
    "ExperimentsProjection",
    "FeedbackLoopFold",
    "FeedbackLoopProjection",
    "PlanProgressFold",
    "PlanProgressProjection",
    "direction",
    "plan_progress",
    "read_experiments",
    "read_feedback",
    "read_like_for_like",
    "read_plan",
    "signal_of",
    "utc_day",
    "utc_week",
]
