"""docker-compose.yml, the Dockerfile, .env.example and the alert rules: what a deployment needs."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.compose import (
    COMPOSE_FILE,
    ROOT,
    MissingVariable,
    interpolate,
    load,
    resolve,
    variables_used,
)

APP_SERVICES = ("migrate", "gateway", "worker", "scheduler", "calendar-provider")
LONG_RUNNING = ("postgres", "redis", "gateway", "worker", "scheduler", "calendar-provider")
HEALTHCHECKED = ("postgres", "redis", "gateway", "worker", "calendar-provider")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return dict(compose["services"])


def test_every_service_of_the_deployment_is_there(services: dict[str, Any]):
    assert set(services) >= {"postgres", "redis", *APP_SERVICES}


def test_servers_keep_their_data_in_named_volumes(compose: dict[str, Any], services):
    postgres, redis = services["postgres"], services["redis"]
    image, _, tag = postgres["image"].partition(":")
    assert image == "postgres" and int(tag.split(".")[0].split("-")[0]) >= 16
    assert redis["image"].startswith("redis:")
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    for service, path in ((postgres, "/var/lib/postgresql/data"), (redis, "/data")):
        [volume] = [v for v in service["volumes"] if v.endswith(f":{path}")]
        assert volume.split(":")[0] in compose["volumes"], f"{volume} is not a named volume"


def test_one_image_runs_every_compound_process(services: dict[str, Any]):
    for name in APP_SERVICES:
        assert services[name]["build"] == {"context": ".", "dockerfile": "infra/Dockerfile"}
        assert services[name]["command"][0] in ("compound", "gunicorn"), name
    assert services["migrate"]["command"] == ["compound", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"  # one-shot
    assert services["worker"]["command"][:2] == ["compound", "worker"]
    assert services["scheduler"]["command"] == ["compound", "scheduler"]
    assert services["calendar-provider"]["command"] == ["compound", "calendar-provider"]


def test_start_order_waits_for_healthy_servers_and_finished_migrations(services):
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("gateway", "worker", "scheduler"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_healthchecks_and_restart_policies(services: dict[str, Any]):
    for name in HEALTHCHECKED:
        test = services[name]["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name
    for name in LONG_RUNNING:
        assert services[name]["restart"] == "unless-stopped", name


def test_workers_scale_and_the_scheduler_does_not(services: dict[str, Any]):
    for name, service in services.items():
        assert "container_name" not in service, f"{name}: a fixed name prevents --scale"
    worker = services["worker"]
    assert "ports" not in worker, "a published port would clash between replicas"
    assert worker["environment"]["COMPOUND_WORKER_METRICS_PORT"] in worker["expose"]
    assert services["scheduler"]["deploy"]["replicas"] == 1
    assert services["calendar-provider"]["profiles"] == ["demo"]
    assert services["prometheus"]["profiles"] == ["monitoring"]


def test_secrets_are_required_and_never_defaulted(services: dict[str, Any]):
    text = COMPOSE_FILE.read_text()
    for secret in ("POSTGRES_PASSWORD", "COMPOUND_MASTER_KEYS", "COMPOUND_SECRET_KEY"):
        assert re.search(r"\$\{" + secret + r":\?", text), secret
        assert not re.search(r"\$\{" + secret + r":?-", text), f"{secret} has a default"
    with pytest.raises(MissingVariable, match="COMPOUND_MASTER_KEYS"):
        resolve(services["gateway"], {"POSTGRES_PASSWORD": "p", "COMPOUND_SECRET_KEY": "s"})


def test_env_example_lists_every_variable_the_compose_file_reads():
    example = (ROOT / ".env.example").read_text()
    listed = {line.split("=", 1)[0] for line in example.splitlines() if re.match(r"^\w+=", line)}
    used = variables_used(COMPOSE_FILE.read_text())
    assert used - listed == set(), "add these to .env.example"
    assert listed - used == set(), "these in .env.example are read by nothing"
    secrets = {"POSTGRES_PASSWORD", "COMPOUND_MASTER_KEYS", "COMPOUND_SECRET_KEY"}
    assert all(f"\n{s}=\n" in example for s in secrets), "secrets ship empty"


def test_interpolation_follows_compose_rules():
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d}/${EMPTY:-d}/${EMPTY-d}/${UNSET-d}/$SET/$$SET", env) == (
        "x/d//d/x/$SET"
    )
    with pytest.raises(MissingVariable, match="EMPTY: needed"):
        interpolate("${EMPTY:?needed}", env)


# -- the Dockerfile ------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "infra" / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` out of the build context (last match wins)."""
    ignored = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = Path(path).parts
        anywhere = pattern.startswith("**/")  # then it may match below any folder
        candidates = [
            "/".join(parts[start : end + 1])
            for start in (range(len(parts)) if anywhere else (0,))
            for end in range(start, len(parts))
        ]
        if any(fnmatch.fnmatch(c, pattern.removeprefix("**/")) for c in candidates):
            ignored = not negate
    return ignored


def test_dockerfile_is_multi_stage_and_runs_as_an_unprivileged_user():
    instructions = dockerfile_instructions()
    stages = [arg for op, arg in instructions if op == "FROM"]
    assert len(stages) >= 2 and stages[0].endswith("AS build"), stages
    final = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    users = [arg for op, arg in final if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    assert any(op == "COPY" and arg.startswith("--from=build") for op, arg in final)
    cmd = [arg for op, arg in final if op == "CMD"]
    assert cmd and "gunicorn" in cmd[-1]


def test_dockerfile_copies_only_what_the_build_context_holds():
    copies = [arg.split() for op, arg in dockerfile_instructions() if op == "COPY"]
    sources = [s for args in copies if not args[0].startswith("--from") for s in args[:-1]]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file"
        assert not dockerignored(source), f"COPY {source}: excluded by .dockerignore"
    for kept_out in (".venv", ".data", ".git", "tests", ".env", "shared/__pycache__"):
        assert dockerignored(kept_out), kept_out


def test_the_wheel_carries_templates_and_static_files():
    """The image installs the wheel: every non-Python file the gateway serves must be in it."""
    import tomllib

    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    for folder in ("templates", "static"):
        for path in (ROOT / "services" / "gateway" / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                relative = path.relative_to(ROOT / "services").as_posix()
                assert any(
                    fnmatch.fnmatch(relative, pattern.replace("/**/", "/*"))
                    or fnmatch.fnmatch(relative, pattern)
                    for pattern in package_data["services"]
                ), relative


# -- Prometheus ----------------------------------------------------------------------------


def exported_dramatiq_metrics() -> set[str]:
    from dramatiq.middleware import prometheus

    source = Path(prometheus.__file__).read_text()
    names = set(re.findall(r'"(dramatiq_[a-z_]+)"', source))
    counters = set(re.findall(r'Counter\(\s*"(dramatiq_[a-z_]+)"', source))
    return names | {n.removesuffix("_total") for n in counters} | {f"{n}_total" for n in counters}


GATEWAY_METRICS = {
    "compound_up",
    "compound_events_appended_total",
    "compound_projection_position",
    "compound_projection_lag_events",
    "compound_projection_lag_seconds",
    "compound_projection_failed",
    "compound_projection_rebuilding",
    "compound_projection_quarantined_tenants",
    "compound_projection_held_events",
    "compound_queue_messages",
    "compound_calendar_connections",
}


def test_alert_rules_are_well_formed_and_use_exported_metrics():
    rules_file = yaml.safe_load((ROOT / "infra" / "prometheus" / "alerts.yml").read_text())
    rules = [rule for group in rules_file["groups"] for rule in group["rules"]]
    assert len(rules) >= 8
    known = GATEWAY_METRICS | exported_dramatiq_metrics() | {"up"}
    for rule in rules:
        assert re.fullmatch(r"Compound[A-Za-z]+", rule["alert"])
        assert rule["labels"]["severity"] in ("page", "ticket")
        assert rule["annotations"]["summary"]
        assert re.fullmatch(r"\d+[smh]", rule["for"])
        metrics = set(re.findall(r"\b((?:compound|dramatiq)_[a-z_]+|up)\{?", rule["expr"]))
        assert metrics and metrics <= known, (rule["alert"], metrics - known)
    config = yaml.safe_load((ROOT / "infra" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["compound-gateway"]["static_configs"][0]["targets"] == ["gateway:8000"]
    assert jobs["compound-worker"]["dns_sd_configs"][0]["names"] == ["worker"]
