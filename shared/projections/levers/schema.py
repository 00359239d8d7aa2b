"""The levers read model's tables, the events it handles and the columns of its sums.

Hours and pressure are kept in integer thousandths (:data:`MILLI`): integer sums are exact in
any order, so every batching and a rebuild give the same rows.
"""

from __future__ import annotations

MILLI = 1000
"""Hours and pressure are stored in integer thousandths of their unit."""

MEMBERSHIP_EVENTS = frozenset(
    {
        "PersonInvited",
        "PersonJoined",
        "PersonMovedTeam",
        "PersonRemovedFromTeam",
        "PersonLeft",
        "PersonReturned",
        "PersonErased",
        "TeamManagerAssigned",
        "TeamManagerRemoved",
    }
)
JOURNAL_EVENTS = frozenset(
    {
        "MicroActionLogged",
        "MicroActionRetracted",
        "OutcomeRecorded",
        "OutcomeConfirmed",
        "ActionConfirmed",
        "FeedbackRequested",
        "FeedbackGiven",
    }
)
CALENDAR_EVENTS = frozenset({"MeetingObserved", "OutOfOfficeObserved", "MeetingCancelled"})
HANDLED_EVENTS = (
    MEMBERSHIP_EVENTS
    | JOURNAL_EVENTS
    | CALENDAR_EVENTS
    | {"PulseResponseSubmitted", "WorkingHoursSet"}
)

SUM_COLUMNS = (
    "members",
    "active",
    "actions",
    "stretchers",
    "askers",
    "visible_people",
    "visible_actions",
    "rewarded_actions",
    "confirmed_rewarded_actions",
    "feedback_people",
    "feedback",
    "output_only",
    "calendar_people",
    "pressure",
    "meeting_hours",
    "working_hours",
    "focus_hours",
    "after_hours",
    "back_to_back",
    "responses",
    "safety_n",
    "safety_points",
    "item_sum",
    "item_n",
)
"""The sums of a ``lever_team_weeks`` row, in column order (``WeekSums``' fields)."""
MILLI_COLUMNS = frozenset(
    {"pressure", "meeting_hours", "working_hours", "focus_hours", "after_hours", "safety_points"}
)
"""The sums kept in thousandths."""

PERSON_WEEK_COLUMNS = (
    "tenant_id, person_id, week_index, team_id, actions, stretch, visible, rewarded, "
    "asked, feedback, output_only, calendar, pressure, meeting_hours, working_hours, "
    "focus_hours, after_hours, back_to_back, confirmed_rewarded"
)

TEAM_AT_SQL = """coalesce((SELECT m.team_id FROM {mem} m WHERE m.person_id = k.person_id
    AND m.from_week <= k.week_index AND (m.to_week IS NULL OR m.to_week >= k.week_index)
    ORDER BY m.from_week DESC LIMIT 1), k.tenant_id)"""
"""The lever team of person ``k.person_id`` in week ``k.week_index`` (the tenant, their
pseudo-team, if none); ``{mem}`` is the memberships table. The same rule in memory:
:func:`shared.projections.levers.membership.team_at`."""

TABLES = {
    "lever_people": """person_id uuid PRIMARY KEY, tenant_id uuid NOT NULL,
        team_id uuid, time_zone text NOT NULL DEFAULT 'UTC',
        active boolean NOT NULL DEFAULT true""",
    "lever_memberships": """person_id uuid NOT NULL, tenant_id uuid NOT NULL,
        team_id uuid NOT NULL, from_week integer NOT NULL, to_week integer""",
    "lever_actions": """action_id uuid PRIMARY KEY, person_id uuid NOT NULL,
        week_index integer NOT NULL, occurred_at timestamptz NOT NULL,
        stretch boolean NOT NULL, visible boolean NOT NULL,
        rewarded boolean NOT NULL DEFAULT false, retracted boolean NOT NULL DEFAULT false,
        declined boolean NOT NULL DEFAULT false,
        reward_confirmed boolean NOT NULL DEFAULT false""",
    "lever_rewards": """outcome_id uuid PRIMARY KEY, person_id uuid NOT NULL,
        occurred_at timestamptz NOT NULL, named boolean NOT NULL DEFAULT false,
        confirmed boolean NOT NULL DEFAULT false""",
    "lever_feedback_requests": "request_id uuid PRIMARY KEY, output_only boolean NOT NULL",
    "lever_working_hours": """person_id uuid NOT NULL, from_week integer NOT NULL,
        start_minute integer NOT NULL, end_minute integer NOT NULL,
        working_days integer[] NOT NULL, time_zone text NOT NULL,
        PRIMARY KEY (person_id, from_week)""",
    "lever_meetings": """person_id uuid NOT NULL, meeting_key text NOT NULL,
        week_index integer NOT NULL, starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL, counted boolean NOT NULL,
        away boolean NOT NULL DEFAULT false, PRIMARY KEY (person_id, meeting_key)""",
    "lever_person_weeks": """tenant_id uuid NOT NULL, person_id uuid NOT NULL,
        week_index integer NOT NULL, team_id uuid NOT NULL,
        actions integer NOT NULL DEFAULT 0, stretch integer NOT NULL DEFAULT 0,
        visible integer NOT NULL DEFAULT 0, rewarded integer NOT NULL DEFAULT 0,
        asked integer NOT NULL DEFAULT 0, feedback integer NOT NULL DEFAULT 0,
        output_only integer NOT NULL DEFAULT 0, calendar boolean NOT NULL DEFAULT false,
        pressure bigint NOT NULL DEFAULT 0, meeting_hours bigint NOT NULL DEFAULT 0,
        working_hours bigint NOT NULL DEFAULT 0, focus_hours bigint NOT NULL DEFAULT 0,
        after_hours bigint NOT NULL DEFAULT 0, back_to_back integer NOT NULL DEFAULT 0,
        confirmed_rewarded integer NOT NULL DEFAULT 0,
        PRIMARY KEY (person_id, week_index)""",
    "lever_pulses": """tenant_id uuid NOT NULL, team_id uuid NOT NULL,
        week_index integer NOT NULL, responses integer NOT NULL, safety_n integer NOT NULL,
        safety_points bigint NOT NULL, item_sum integer[] NOT NULL,
        item_n integer[] NOT NULL, PRIMARY KEY (team_id, week_index)""",
    "lever_team_weeks": """tenant_id uuid NOT NULL, team_id uuid NOT NULL,
        week_index integer NOT NULL, members integer NOT NULL, active integer NOT NULL,
        actions integer NOT NULL, stretchers integer NOT NULL, askers integer NOT NULL,
        visible_people integer NOT NULL, visible_actions integer NOT NULL,
        rewarded_actions integer NOT NULL, feedback_people integer NOT NULL,
        confirmed_rewarded_actions integer NOT NULL DEFAULT 0,
        feedback integer NOT NULL, output_only integer NOT NULL,
        calendar_people integer NOT NULL, pressure bigint NOT NULL,
        meeting_hours bigint NOT NULL, working_hours bigint NOT NULL,
        focus_hours bigint NOT NULL, after_hours bigint NOT NULL,
        back_to_back integer NOT NULL, responses integer NOT NULL,
        safety_n integer NOT NULL, safety_points bigint NOT NULL,
        item_sum integer[], item_n integer[], model_version integer NOT NULL,
        PRIMARY KEY (team_id, week_index)""",
}
"""Base table name -> column definitions."""
INDEXES = {
    "lever_memberships": ["person_id", "team_id"],
    "lever_actions": ["person_id, week_index"],
    "lever_rewards": ["person_id, occurred_at"],
    "lever_meetings": ["person_id, week_index"],
    "lever_person_weeks": ["team_id, week_index"],
    "lever_team_weeks": ["tenant_id, week_index"],
}
"""Secondary indexes per table (column lists)."""
