"""Nudges: rules over the read models, each citing the number that triggered it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEPOSIT_WEEKS = 2


def employee_nudges(capital: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The seed article's advice, when the employee's own numbers call for it."""
    nudges = []
    weeks = capital.get("weeks_since_relationship_deposit")
    if weeks is None or weeks >= DEPOSIT_WEEKS:
        nudges.append(
            {
                "rule": "relationship_deposit",
                "because": f"no relationship deposit in the last {DEPOSIT_WEEKS} weeks"
                if weeks is None
                else f"your last relationship deposit was {weeks} weeks ago",
                "value": weeks,
                "suggestion": "Send a thank-you note or do a one-minute check-in with a teammate.",
            }
        )
    if "all_signal_no_substance" in capital.get("flags", []):
        ratio = capital.get("signal_vs_substance", {}).get("ratio")
        nudges.append(
            {
                "rule": "all_signal_no_substance",
                "because": f"visibility investment is {ratio}x capability over 4 weeks, "
                "with no capability outcome",
                "value": ratio,
                "suggestion": "Alternate with private skill-building: 10 minutes with a new tool, "
                "or a short stretch task.",
            }
        )
    return nudges
