"""docker-compose.yml read the way Docker Compose reads it, for checking and for native runs.

No Docker engine runs here, so the proof of the compose file is: its structure checked
against what the deployment needs, and every service's own command and environment run as
native processes against the same PostgreSQL and Redis the tests use.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, $NAME, and $$.
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(LookupError):
    """A ``${NAME:?message}`` variable is not set: Compose refuses to start."""


def load() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


def variables_used(text: str) -> set[str]:
    """Names of the variables a text interpolates (``$$`` is a literal dollar)."""
    return {m["braced"] or m["plain"] for m in _VARIABLE.finditer(text) if not m["escaped"]}


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's variable substitution in one string value."""

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["plain"]
        op, arg = match["op"], match["arg"] or ""
        value = env.get(name)
        unset_or_empty = value is None or (value == "" and op is not None and op[0] == ":")
        if op in (":-", "-") and unset_or_empty:
            return arg
        if op in (":?", "?") and unset_or_empty:
            raise MissingVariable(f"{name}: {arg}")
        return value or ""

    return _VARIABLE.sub(substitute, value)


def resolve(node: Any, env: Mapping[str, str]) -> Any:
    """Interpolate every string of a parsed compose node."""
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [resolve(item, env) for item in node]
    if isinstance(node, dict):
        return {key: resolve(value, env) for key, value in node.items()}
    return node


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A resolved service's environment (mapping or ``NAME=value`` list form)."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


def native_argv(command: list[str]) -> list[str]:
    """The image's command as a native one: ``compound``, ``gunicorn`` and ``python`` are the
    console scripts and interpreter the image puts on its PATH."""
    program, *args = command
    native = {
        "compound": [sys.executable, "-m", "services.cli"],
        "gunicorn": [sys.executable, "-m", "gunicorn"],
        "python": [sys.executable],
    }
    assert program in native, f"no native equivalent of {program!r}"
    return [*native[program], *args]


def healthcheck_argv(service: Mapping[str, Any]) -> list[str]:
    """The exec form of a resolved service's healthcheck (``CMD`` ...)."""
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD", f"healthcheck {test!r} is not in exec form"
    return native_argv(list(test[1:]))
