"""The Slack settings ``make run`` gives every process: the app talks to the local Slack Web
API stand-in (``compound slack-stand-in``, infra/slack_stand_in.py) on PORT + 30.

Whatever the caller set already wins; with ``COMPOUND_SLACK_CLIENT_ID`` set (a real Slack
app, docs/chat.md "Installing for real") nothing points at the stand-in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

STAND_IN_CLIENT_ID = "compound"


def slack_environment(
    env: dict[str, str], data_dir: Path, port: int, secret: Callable[[Path], str]
) -> dict[str, str]:
    """The ``COMPOUND_SLACK_*`` variables of a local run.

    Parameters:
        env: the environment so far (its values win).
        data_dir: where generated secrets are kept.
        port: the gateway's port (the stand-in's is 30 above it).
        secret: makes or reads a secret kept in a file of the data directory.

    Returns:
        The variables to add.
    """
    stand_in_port = int(env.get("COMPOUND_SLACK_STAND_IN_PORT") or port + 30)
    ours = {"COMPOUND_SLACK_STAND_IN_PORT": str(stand_in_port)}
    if env.get("COMPOUND_SLACK_CLIENT_ID"):
        return ours
    url = f"http://127.0.0.1:{stand_in_port}"
    ours.update(
        {
            "COMPOUND_SLACK_API_URL": f"{url}/api/",
            "COMPOUND_SLACK_AUTHORIZE_URL": f"{url}/oauth/v2/authorize",
            "COMPOUND_SLACK_CLIENT_ID": STAND_IN_CLIENT_ID,
            "COMPOUND_SLACK_CLIENT_SECRET": secret(data_dir / "slack-client.secret"),
            "COMPOUND_SLACK_SIGNING_SECRET": secret(data_dir / "slack-signing.secret"),
        }
    )
    return {name: env.get(name) or value for name, value in ours.items()}
