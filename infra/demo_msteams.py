"""The Teams settings ``make run`` gives every process: the bot talks to the local Bot
Framework connector stand-in (``compound msteams-stand-in``, infra/msteams_stand_in.py) on
PORT + 31.

Whatever the caller set already wins; with ``COMPOUND_MSTEAMS_APP_ID`` set (a real bot,
docs/chat.md "Installing the Teams app for real") nothing points at the stand-in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

STAND_IN_APP_ID = "00000000-0000-4000-8000-000000000001"


def msteams_environment(
    env: dict[str, str], data_dir: Path, port: int, secret: Callable[[Path], str]
) -> dict[str, str]:
    """The ``COMPOUND_MSTEAMS_*`` variables of a local run.

    Parameters:
        env: the environment so far (its values win).
        data_dir: where generated secrets are kept.
        port: the gateway's port (the stand-in's is 31 above it).
        secret: makes or reads a secret kept in a file of the data directory.
    """
    stand_in_port = int(env.get("COMPOUND_MSTEAMS_STAND_IN_PORT") or port + 31)
    ours = {"COMPOUND_MSTEAMS_STAND_IN_PORT": str(stand_in_port)}
    if env.get("COMPOUND_MSTEAMS_APP_ID"):
        return ours
    url = f"http://127.0.0.1:{stand_in_port}"
    ours.update(
        {
            "COMPOUND_MSTEAMS_APP_ID": STAND_IN_APP_ID,
            "COMPOUND_MSTEAMS_APP_PASSWORD": secret(data_dir / "msteams-app.secret"),
            "COMPOUND_MSTEAMS_OPENID_URL": f"{url}/v1/.well-known/openidconfiguration",
            "COMPOUND_MSTEAMS_TOKEN_URL": f"{url}/botframework.com/oauth2/v2.0/token",
        }
    )
    return {name: env.get(name) or value for name, value in ours.items()}
