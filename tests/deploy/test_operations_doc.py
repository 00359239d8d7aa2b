"""docs/operations.md stays true: every environment variable the code reads has a row there."""

from __future__ import annotations

import re

from tests.deploy.compose import ROOT

# Quoted names of environment variables, as every reader in the code spells them.
_NAME = re.compile(r"""["'](COMPOUND_[A-Z0-9_]+|DATABASE_URL|REDIS_URL|PORT|HOST)["']""")
NOT_ENVIRONMENT = {"COMPOUND_SETTINGS"}  # a Flask config key


def variables_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for package in ("shared", "services", "workers", "infra"):
        for path in (ROOT / package).rglob("*.py"):
            names |= set(_NAME.findall(path.read_text()))
    return names - NOT_ENVIRONMENT


def test_every_variable_is_documented_in_operations():
    documented = (ROOT / "docs" / "operations.md").read_text()
    read = variables_read_by_the_code()
    assert {"DATABASE_URL", "COMPOUND_MASTER_KEYS", "COMPOUND_WORKER_METRICS_PORT"} <= read
    missing = sorted(name for name in read if f"`{name}`" not in documented)
    assert missing == [], f"document these in docs/operations.md (Settings): {missing}"


def test_operations_links_the_scaling_guide():
    assert "(scaling.md)" in (ROOT / "docs" / "operations.md").read_text()
