"""Which fields of each event type are behaviour: what a person did, sealed with their key.

Issue #17 (erasure of behaviour): after "erase me", nothing the person did may stay readable
under their id. These fields (and the event's exact time) are sealed together with the
subject's data key on append (shared/eventlog/sealing.py); the ids the store and commands look
events up by stay in plaintext. The id of the person an item names to confirm it
(``counterpart_id``, ``confirmer_id``, ``colleague_id``: :data:`NAMED`) is sealed too, leaving
its member in plaintext as ``null`` so migration 0018's index still finds the items that name
someone (shared/eventlog/named_items.py); their e-mail addresses are personal fields, shredded
with the key. docs/privacy.md, "Erasure", lists what stays.
"""

from __future__ import annotations

BEHAVIOUR: dict[str, tuple[str, ...]] = {
    "MicroActionLogged": ("tactic", "minutes", "audience", "counterpart_id"),
    "MicroActionRetracted": ("tactic", "minutes", "audience"),
    "WeeklyPlanSet": ("week", "tactics"),
    "ExperimentStarted": ("tactic", "weeks", "starts_on"),
    "OutcomeRecorded": ("kind", "confirmer_id"),
    "OutcomeConfirmed": ("confirmed",),
    "ActionConfirmed": ("confirmed",),
    "FeedbackRequested": ("expires_at", "colleague_id"),
    "FeedbackGiven": ("useful", "confirmed"),
    "AbsenceDeclared": ("starts_on", "ends_on"),
    "WorkingHoursSet": ("start_minute", "end_minute", "working_days", "time_zone"),
    "OutOfOfficeObserved": ("start", "end"),
    "MeetingObserved": (
        "start",
        "end",
        "attendee_count",
        "one_on_one",
        "with_manager",
        "organizer_is_self",
        "response_status",
        "recurring",
    ),
}
"""Per event type: its behaviour fields (its subject is always ``person_id``)."""

NAMED = frozenset({"counterpart_id", "confirmer_id", "colleague_id"})
"""Behaviour fields holding another person's id: sealed, their member kept as ``null``."""
