"""Everything Dramatiq: the broker on Redis, its namespace, the fair share of messages among
worker processes, the Prometheus middleware, actor declaration, message sending and the
queue depths of ``/metrics``.

The rest of Compound speaks of actors and queues by name (shared/wakeups.py,
shared/calendar/jobs.py) and never imports the workers. The broker is made once per process
(:func:`setup_broker`, called by shared/bootstrap.py after any fork: its Redis client
connects lazily) and becomes Dramatiq's global broker, which messages sent without a broker
go to.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from shared.settings import Settings

DEFAULT_NAMESPACE = "compound"
"""The Redis key prefix of the queues; ``COMPOUND_QUEUE_NAMESPACE`` sets another (tests)."""
IDLE_POLL_MS = 100
"""How often, at most, an idle worker process asks Redis for messages (Dramatiq's default,
a second, left fanned-out partitions to the busy process that sent them)."""

Broker = dramatiq.Broker
"""Any Dramatiq broker (a test's stub broker as well as the Redis one)."""

_broker: RedisBroker | None = None


class FairShare(dramatiq.Middleware):
    """Each worker process takes from the queue only as many messages as it has threads,
    and an idle one polls every :data:`IDLE_POLL_MS`.

    Dramatiq's defaults suit short messages: a process fetches twice its threads at once and
    an idle one polls once a second. A partition's catch-up lasts seconds: with those
    defaults the process that fanned a backlog out held the partition messages it could not
    start yet in its own memory while other processes idled (the "Distribution"
    paragraph of docs/scaling.md#partitioned-projections), and one process applied nearly
    all of a backlog.
    ``dramatiq_queue_prefetch`` in the environment still sets the prefetch.
    """

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        if not os.environ.get("dramatiq_queue_prefetch"):  # noqa: SIM112 (Dramatiq spells it so)
            worker.queue_prefetch = worker.worker_threads
        worker.worker_timeout = min(worker.worker_timeout, IDLE_POLL_MS)


def setup_broker(url: str | None) -> RedisBroker:
    """The process's broker, made on the first call and Dramatiq's global broker from then on.

    Parameters:
        url: Redis URL (default ``redis://127.0.0.1:6379/0``); later calls ignore it.

    Returns:
        The broker, in the namespace ``COMPOUND_QUEUE_NAMESPACE`` (default ``compound``),
        with the :class:`FairShare` middleware.
    """
    global _broker
    if _broker is None:
        namespace = os.environ.get("COMPOUND_QUEUE_NAMESPACE", DEFAULT_NAMESPACE)
        _broker = RedisBroker(url=url or "redis://127.0.0.1:6379/0", namespace=namespace)
        _broker.add_middleware(FairShare())
        dramatiq.set_broker(_broker)
    return _broker


def current_broker(broker: dramatiq.Broker | None = None) -> dramatiq.Broker:
    """``broker``, or the process's (set up by :func:`setup_broker`)."""
    return broker or dramatiq.get_broker()


def namespace(broker: dramatiq.Broker | None = None) -> str:
    """The Redis key prefix of ``broker``'s queues (``dramatiq`` for a broker without one)."""
    return str(getattr(current_broker(broker), "namespace", "dramatiq"))


def redis_client(broker: dramatiq.Broker | None = None) -> redis.Redis | None:
    """The Redis client of a Redis broker; None for another kind (a test's stub broker)."""
    return getattr(current_broker(broker), "client", None)


def actor(
    name: str, queue: str, broker: dramatiq.Broker, **options: Any
) -> Callable[[Callable[..., None]], dramatiq.Actor[Any, None]]:
    """Declare the decorated function as actor ``name`` on ``queue`` of ``broker``.

    Parameters:
        name: the actor's name, which senders use (they never import the workers).
        queue: its queue.
        broker: the broker it consumes from (shared/bootstrap.py's ``worker_broker``).
        options: Dramatiq's actor options (``max_retries``, ``time_limit``, ...).

    Returns:
        The decorator, which makes a Dramatiq actor of the function.
    """
    declare: Callable[[Callable[..., None]], dramatiq.Actor[Any, None]] = dramatiq.actor(
        actor_name=name, queue_name=queue, broker=broker, **options
    )
    return declare


def send(
    queue: str,
    actor_name: str,
    args: Sequence[Any],
    *,
    delay_ms: int = 0,
    broker: dramatiq.Broker | None = None,
) -> str:
    """Enqueue a message for actor ``actor_name`` by name.

    Parameters:
        queue: the actor's queue.
        actor_name: the actor's name.
        args: its positional arguments (JSON values).
        delay_ms: how long the message waits before a worker may take it (0: at once).
        broker: default, the process's.

    Returns:
        The message id.

    Raises:
        Whatever the broker raises when Redis cannot be reached.
    """
    message: dramatiq.Message[None] = dramatiq.Message(
        queue_name=queue, actor_name=actor_name, args=tuple(args), kwargs={}, options={}
    )
    return str(current_broker(broker).enqueue(message, delay=delay_ms or None).message_id)


def queue_depths(
    client: redis.Redis, prefix: str, known: Sequence[str]
) -> dict[tuple[str, str], int]:
    """Messages per (queue, state) in the queues of namespace ``prefix`` in Redis.

    Parameters:
        client: a Redis client on the broker's database.
        prefix: the broker's namespace.
        known: queues reported even when empty (Dramatiq deletes an empty queue's keys).

    Returns:
        ``(queue, state) -> count`` for every queue found or known; ``waiting``: enqueued,
        not yet fetched by a worker; ``delayed``: waiting for their eta (retries with
        backoff, throttled wake-ups); ``dead``: dead-lettered after their last retry.
    """
    queues = set(known)
    keys = f"{prefix}:"
    for key in client.scan_iter(match=f"{keys}*.msgs", count=1000):
        name = key.decode()[len(keys) : -len(".msgs")]
        for suffix in (".DQ", ".XQ"):
            name = name.removesuffix(suffix)
        queues.add(name)
    pipe = client.pipeline(transaction=False)
    for queue in sorted(queues):
        pipe.llen(f"{keys}{queue}")
        pipe.hlen(f"{keys}{queue}.DQ.msgs")
        pipe.zcard(f"{keys}{queue}.XQ")
    counts = iter(pipe.execute())
    depths = {}
    for queue in sorted(queues):
        for state in ("waiting", "delayed", "dead"):
            depths[(queue, state)] = int(next(counts))
    return depths


# -- worker metrics: Dramatiq's Prometheus middleware ------------------------------------------
#
# The middleware (``dramatiq.middleware.prometheus``) counts messages, errors, retries, dead
# letters and durations per queue and actor in every worker process, in prometheus_client's
# multiprocess files, and a separate process forked by Dramatiq's main process serves them all
# on one port. It reads its configuration from the environment when it is imported
# (``dramatiq_prom_port``, ``dramatiq_prom_host``, ``dramatiq_prom_db``), and that forked
# process inherits the *main* process's environment, so the variables must be set before
# ``dramatiq`` starts: :func:`worker_environment`, called by ``compound worker``.
#
# Off by default: the exposition port is fixed per host, so ``make run``, the tests and several
# workers on one machine would fight over it. In docker-compose each worker container has an
# address of its own and serves on the same port, so ``--scale worker=N`` just works.


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

    Returns:
        The variables to add to the worker's environment.
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
    """Add the Prometheus middleware when ``compound worker`` prepared its environment
    (:func:`worker_environment`); returns whether it did."""
    if not os.environ.get("dramatiq_prom_db"):  # noqa: SIM112 (Dramatiq spells it so)
        return False
    from dramatiq.middleware.prometheus import Prometheus

    broker.add_middleware(Prometheus())
    return True
