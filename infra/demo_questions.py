"""``make run``: a question waits for the demo's employee.

Right after the demo is seeded, a team-mate of Ada logs a relationship action and asks her,
by name, whether it helped, through the gateway's API as a person would: the request enters
the log, and the gateway mails Ada the link (the demo's Mailbox shows it to her, and to the
admin). Logged in as Ada, the link answers it, once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import requests
from sqlalchemy import Engine, text

ASKER = "alan@demo.test"
"""Alan Turing, in Ada's team ("Platform")."""
ASKED = "ada@demo.test"
ACTION: dict[str, str | int] = {
    "tactic": "relationship_deposit",
    "minutes": 20,
    "audience": "team",
    "note": "Paired with Ada on the flaky CI job",
}
QUESTION = "Did pairing on the flaky CI job save you time?"
TIMEOUT = 15


def ask_the_demo_employee(
    engine: Engine,
    tenant_id: uuid.UUID,
    gateway_url: str,
    password: str,
    say: Callable[[str], None],
) -> str:
    """Have :data:`ASKER` ask :data:`ASKED` (named as a person of the organisation) one
    question about a new action of his.

    Parameters:
        engine: the database (where Ada's person id is found).
        tenant_id: the demo organisation.
        gateway_url: the running gateway (``http://127.0.0.1:PORT``).
        password: the demo password.
        say: where to report.

    Returns:
        The request's id.

    Raises:
        requests.RequestException: the gateway refused or did not answer.
    """
    with engine.connect() as conn:
        colleague = conn.execute(
            text("SELECT id FROM people WHERE tenant_id = :t AND lower(email) = :email"),
            {"t": tenant_id, "email": ASKED},
        ).scalar_one()
    api = f"{gateway_url}/api/v1"
    login = requests.post(
        f"{api}/auth/token", json={"email": ASKER, "password": password}, timeout=TIMEOUT
    )
    login.raise_for_status()
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    action = requests.post(f"{api}/actions", json=ACTION, headers=bearer, timeout=TIMEOUT)
    action.raise_for_status()
    question: dict[str, str] = {
        "question": QUESTION,
        "action_id": str(action.json()["action_id"]),
        "colleague": str(colleague),
    }
    asked = requests.post(
        f"{api}/feedback-requests",
        json=question,
        headers=bearer,
        timeout=TIMEOUT,
    )
    asked.raise_for_status()
    say(f"Demo: {ASKER} asked {ASKED} a question (the link is in the Mailbox)")
    return str(asked.json()["request_id"])
