"""What every benchmark shares: the server, the machine, statistics and table rendering."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from infra.embedded import EmbeddedPostgres, EmbeddedRedis
from infra.migrate import upgrade
from shared.database import make_engine
from shared.settings import normalise_database_url

COMMAND = "make bench"
RAW_COMMAND = ".venv/bin/python -m bench"


@dataclass(frozen=True)
class Machine:
    """Where a run happened; printed in every section that quotes figures."""

    cpus: int
    cpu_model: str
    memory: str
    python: str
    postgres: str
    server: str  # "embedded" or "DATABASE_URL"
    settings: str  # the PostgreSQL settings that matter for commit latency
    date: str

    def markdown(self) -> str:
        rows = [
            ("Date", self.date),
            ("Command", f"`{COMMAND}` (runs `{RAW_COMMAND}`)"),
            ("CPUs (nproc)", str(self.cpus)),
            ("CPU model", self.cpu_model),
            ("Memory", self.memory),
            ("Python", self.python),
            ("PostgreSQL", f"{self.postgres} ({self.server})"),
            ("PostgreSQL settings", self.settings),
        ]
        return markdown_table(("Machine and run", ""), rows)


@dataclass
class Context:
    """Given to each benchmark: a fresh, migrated database on the run's server."""

    database_url: str  # SQLAlchemy URL (postgresql+psycopg://...)
    machine: Machine
    rounds: int

    @property
    def libpq_url(self) -> str:
        """The same database as a libpq URL, for plain psycopg connections."""
        return _libpq(self.database_url)


@dataclass
class Section:
    """One benchmark's results: a markdown section of docs/benchmarks.md and a console table."""

    title: str
    markdown: str
    console: str
    passed: bool
    raw: dict[str, object] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        title: str,
        passed: bool,
        tables: Sequence[tuple[Sequence[str], Sequence[Sequence[str]]]],
        method: str,
        timings: Mapping[str, float],
        machine_markdown: str,
        raw: Mapping[str, object],
    ) -> Section:
        """The section's markdown and console text, the same layout for every benchmark."""
        phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
        markdown = "\n\n".join(
            [
                f"## {title}",
                f"Overall: **{'all targets met' if passed else 'some targets missed'}**.",
                *(markdown_table(header, rows) for header, rows in tables),
                method,
                f"Phase durations: {phases}.",
                machine_markdown,
            ]
        )
        console_parts = [title]
        for i, (header, rows) in enumerate(tables):
            if i:
                console_parts.append("")
            console_parts.append(
                console_table(header, [tuple(c.replace("`", "") for c in row) for row in rows])
            )
        console_parts.append(f"phases: {phases}")
        return cls(title, markdown, "\n".join(console_parts), passed, dict(raw))


# -- statistics -----------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest-rank method."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, -(-len(ordered) * q // 1))  # ceil(n * q), at least 1
    return float(ordered[int(rank) - 1])


# -- rendering ------------------------------------------------------------------------------


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def console_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


# -- the server -----------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def server_url() -> Iterator[tuple[str, str]]:
    """A PostgreSQL server to create databases on: ``DATABASE_URL``'s, or an embedded one.

    Yields ``(url, kind)``; an embedded server is stopped and its files removed afterwards.
    """
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield normalise_database_url(configured), "DATABASE_URL"
        return
    with tempfile.TemporaryDirectory(prefix="compound-bench-") as tmpdir:
        server = EmbeddedPostgres(Path(tmpdir) / "postgres", database="postgres")
        server.start()
        try:
            yield server.url, "embedded"
        finally:
            server.stop()


@contextlib.contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, migrated database on ``server`` for this run, dropped afterwards."""
    name = f"compound_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _libpq(server)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url, pool_size=1)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the machine ----------------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory() -> str:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    return "unknown"


def machine(database_url: str, server: str) -> Machine:
    names = ("synchronous_commit", "fsync", "wal_sync_method", "shared_buffers")
    with psycopg.connect(_libpq(database_url)) as conn:
        row = conn.execute("SELECT version()").fetchone()
        shown = ", ".join(
            f"{name}={conn.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
            for name in names
        )
    return Machine(
        cpus=len(os.sched_getaffinity(0)),  # what nproc prints
        cpu_model=_cpu_model(),
        memory=_memory(),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        postgres=row[0] if row else "unknown",
        server=server,
        settings=shown,
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


@contextlib.contextmanager
def redis_url(tmpdir: Path) -> Iterator[str]:
    """``REDIS_URL`` when set, else an embedded Redis for the block."""
    configured = os.environ.get("REDIS_URL")
    if configured:
        yield configured
        return
    server = EmbeddedRedis(tmpdir / "redis").start()
    try:
        yield server.url
    finally:
        server.stop()
