"""Worker metrics: Dramatiq's Prometheus middleware, when ``COMPOUND_WORKER_METRICS_PORT`` is set.

The middleware (``dramatiq.middleware.prometheus``) counts messages, errors, retries,
dead letters and durations per queue and actor in every worker process, in
prometheus_client's multiprocess files, and a separate process forked by Dramatiq's main
process serves them all on one port. It reads its configuration from the environment when it
is imported (``dramatiq_prom_port``, ``dramatiq_prom_host``, ``dramatiq_prom_db``), and that
forked process inherits the *main* process's environment, so the variables must be set before
``dramatiq`` starts: :func:`worker_environment`, called by ``compound worker``.

Off by default: the exposition port is fixed per host, so ``make run``, the tests and several
workers on one machine would fight over it. In docker-compose each worker container has an
address of its own and serves on the same port, so ``--scale worker=N`` just works.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import dramatiq

from shared.settings import Settings


def metrics_directory(pid: int) -> Path:
    """The multiprocess directory of the worker whose main process is ``pid``."""
    return Path(tempfile.gettempdir()) / f"compound-worker-metrics-{pid}"


def worker_environment(settings: Settings, env: dict[str, str], pid: int) -> dict[str, str]:
    """Environment variables for Dramatiq's Prometheus middleware (none when metrics are off).

    The directory is emptied here: prometheus_client keeps a file per process, and files of an
    earlier run with the same pid would add their counts to this one's.

    Parameters:
        settings: the worker's settings (``worker_metrics_port``).
        env: the environment the worker will get (``HOST`` is the address served on).
        pid: the pid Dramatiq's main process will have (``compound worker`` execs into it).
    """
    if not settings.worker_metrics_port:
        return {}
    directory = metrics_directory(pid)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return {
        "dramatiq_prom_port": str(settings.worker_metrics_port),
        "dramatiq_prom_host": env.get("HOST") or "127.0.0.1",
        "dramatiq_prom_db": str(directory),
        # Before any import of prometheus_client in a worker process, so that its counters
        # are the multiprocess kind whatever imports it first.
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }


def add_prometheus(broker: dramatiq.Broker) -> bool:
    """Add the Prometheus middleware when ``compound worker`` prepared its environment."""
    if not os.environ.get("dramatiq_prom_db"):  # noqa: SIM112 (Dramatiq spells it so)
        return False
    from dramatiq.middleware.prometheus import Prometheus

    broker.add_middleware(Prometheus())
    return True
