"""Every setting Compound reads, in one place.

Each field maps to one environment variable (documented in README.md with its default).
``Settings.from_env()`` is the only function that reads the environment.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shared.calendar.settings import CalendarSettings, CalendarSettingsError
from shared.chat.settings import SlackSettings
from shared.msteams.settings import TeamsSettings

DEFAULT_MAX_EVENT_BYTES = 64 * 1024


class SettingsError(ValueError):
    """A setting has a value Compound cannot use."""


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: dict[str, str], name: str, default: float, above: float = 0.0) -> float:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not value > above or value != value or value == float("inf"):
        raise SettingsError(f"{name} must be a finite number above {above:g}, got {raw}")
    return value


def _flag(env: dict[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def projection_partitions(env: Mapping[str, str] | None = None) -> int:
    """``COMPOUND_PROJECTION_PARTITIONS``: partitions of each projection, 1 to 64 (the slots
    of shared/projections/partitions.py; docs/scaling.md)."""
    value = _int(dict(os.environ if env is None else env), "COMPOUND_PROJECTION_PARTITIONS", 1, 1)
    if value > 64:
        raise SettingsError(f"COMPOUND_PROJECTION_PARTITIONS must be at most 64, got {value}")
    return value


def projection_lease_seconds(env: Mapping[str, str] | None = None) -> int:
    """``COMPOUND_PROJECTION_LEASE_SECONDS``: how long a partition stays with a worker that
    stopped answering, its transaction open (docs/scaling.md)."""
    return _int(
        dict(os.environ if env is None else env), "COMPOUND_PROJECTION_LEASE_SECONDS", 15, 1
    )


def rebuild_chunk_events(env: Mapping[str, str] | None = None) -> int:
    """``COMPOUND_REBUILD_CHUNK_EVENTS``: about how many events a rebuild folds at once,
    which bounds its memory (at least 1; docs/operations.md)."""
    return _int(
        dict(os.environ if env is None else env), "COMPOUND_REBUILD_CHUNK_EVENTS", 25_000, 1
    )


def normalise_database_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver spelled out, as SQLAlchemy needs it.

    ``postgres://`` and ``postgresql://`` (what most hosts hand out) become
    ``postgresql+psycopg://``; any other driver is refused, since Compound speaks only
    PostgreSQL through psycopg 3.
    """
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise SettingsError(
        f"DATABASE_URL must be a PostgreSQL URL (postgresql://...), got {url.split(':', 1)[0]}://..."
    )


def _calendar(env: dict[str, str]) -> CalendarSettings:
    try:
        return CalendarSettings.from_env(env)
    except CalendarSettingsError as err:
        raise SettingsError(str(err)) from None


def _slack(env: dict[str, str]) -> SlackSettings:
    try:
        return SlackSettings.from_env(env)
    except ValueError as err:
        raise SettingsError(str(err)) from None


def _msteams(env: dict[str, str]) -> TeamsSettings:
    try:
        return TeamsSettings.from_env(env)
    except ValueError as err:
        raise SettingsError(str(err)) from None


@dataclass(frozen=True)
class Settings:
    """Process settings; build with :meth:`from_env` or directly in tests."""

    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path(".data")
    port: int = 8000
    master_keys: tuple[str, ...] = field(default_factory=tuple)
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    metrics_token: str | None = None
    operator_orgs: tuple[str, ...] = field(default_factory=tuple)
    """Organisation ids whose admins run the deployment (projection status and rebuilds,
    which span every organisation); empty: no organisation's admin (the CLI only)."""
    worker_metrics_port: int = 0
    log_level: str = "INFO"
    demo_password: str = "compound-demo"
    secret_key: str | None = None
    k_anonymity: int = 5
    calendar: CalendarSettings = field(default_factory=CalendarSettings)
    secure_cookies: bool = False
    forwarded_proxies: int = 0
    smtp_host: str | None = None  # unset: mail is logged, not sent (shared/notify)
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "compound@localhost"
    smtp_starttls: bool = True
    public_url: str = "http://127.0.0.1:8000"
    """The gateway's address as people reach it: the base of every link a mail carries."""
    reset_minutes: int = 30
    """How long a mailed password-reset link works (services/gateway/reset.py)."""
    demo_mailbox: Path | None = None
    """The Maildir of the local SMTP server ``make run`` starts (infra/mail_server.py); set,
    the gateway shows admins a Mailbox page reading it (demo only; unset: 404)."""
    projection_partitions: int = 1
    projection_lease_seconds: int = 15
    web_threads: int = 4
    """Threads of each gateway process (gunicorn's, services/gateway/gunicorn_conf.py); its
    connection pool holds at least as many connections."""
    worker_threads: int = 4
    """Threads of each worker process; its connection pools are sized from it."""
    statement_timeout_ms: int = 5000
    """The longest a web request's SQL statement may run (0: no limit); the gateway answers
    503 with Retry-After when it fires (services/gateway/timeouts.py)."""
    release_grace_hours: int = 24
    """Hours after a week closes (Monday 00:00 UTC) before its release is computed."""
    privacy_epsilon: float = 10.0
    """The differential-privacy budget of one team-week's release (docs/privacy.md)."""
    slack: SlackSettings = field(default_factory=SlackSettings)
    """The Slack app and the Web API it talks to (docs/chat.md)."""
    msteams: TeamsSettings = field(default_factory=TeamsSettings)
    """The Microsoft Teams bot and the Bot Framework it talks to (docs/chat.md)."""
    session_idle_minutes: int = 120
    """A portal session not used for this long ends (shared/sessions.py)."""
    session_max_hours: int = 24 * 7
    """A portal session ends this long after login, however busy."""
    sso_clock_skew_seconds: int = 60
    """The clock skew allowed when checking an ID token's times (docs/sso.md)."""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: ``os.environ``).

        Raises:
            SettingsError: a variable is set to a value that cannot be used.
        """
        env = dict(os.environ if env is None else env)
        database_url = env.get("DATABASE_URL") or None
        keys = tuple(k.strip() for k in env.get("COMPOUND_MASTER_KEYS", "").split(",") if k.strip())
        return cls(
            database_url=normalise_database_url(database_url) if database_url else None,
            redis_url=env.get("REDIS_URL") or None,
            data_dir=Path(env.get("COMPOUND_DATA_DIR") or ".data").expanduser().absolute(),
            port=_int(env, "PORT", 8000, minimum=1),
            master_keys=keys,
            max_event_bytes=_int(env, "COMPOUND_MAX_EVENT_BYTES", DEFAULT_MAX_EVENT_BYTES, 1024),
            metrics_token=env.get("COMPOUND_METRICS_TOKEN") or None,
            operator_orgs=_ids(env, "COMPOUND_OPERATOR_ORGS"),
            worker_metrics_port=_int(env, "COMPOUND_WORKER_METRICS_PORT", 0),
            log_level=(env.get("COMPOUND_LOG_LEVEL") or "INFO").upper(),
            demo_password=env.get("COMPOUND_DEMO_PASSWORD") or "compound-demo",
            secret_key=env.get("COMPOUND_SECRET_KEY") or None,
            k_anonymity=_int(env, "COMPOUND_K", 5, minimum=3),
            calendar=_calendar(env),
            secure_cookies=_flag(env, "COMPOUND_SECURE_COOKIES"),
            forwarded_proxies=_int(env, "COMPOUND_FORWARDED_PROXIES", 0),
            smtp_host=env.get("COMPOUND_SMTP_HOST") or None,
            smtp_port=_int(env, "COMPOUND_SMTP_PORT", 587, minimum=1),
            smtp_user=env.get("COMPOUND_SMTP_USER") or None,
            smtp_password=env.get("COMPOUND_SMTP_PASSWORD") or None,
            smtp_from=env.get("COMPOUND_SMTP_FROM") or "compound@localhost",
            smtp_starttls=env.get("COMPOUND_SMTP_STARTTLS", "1") not in ("0", "false", "no"),
            public_url=public_url(env),
            reset_minutes=_int(env, "COMPOUND_RESET_MINUTES", 30, minimum=1),
            demo_mailbox=Path(env["COMPOUND_DEMO_MAILBOX"])
            if env.get("COMPOUND_DEMO_MAILBOX")
            else None,
            projection_partitions=projection_partitions(env),
            projection_lease_seconds=projection_lease_seconds(env),
            web_threads=_int(env, "COMPOUND_WEB_THREADS", 4, minimum=1),
            worker_threads=_int(env, "COMPOUND_WORKER_THREADS", 4, minimum=1),
            statement_timeout_ms=_int(env, "COMPOUND_STATEMENT_TIMEOUT_MS", 5000),
            release_grace_hours=_int(env, "COMPOUND_RELEASE_GRACE_HOURS", 24),
            privacy_epsilon=_float(env, "COMPOUND_PRIVACY_EPSILON", 10.0),
            slack=_slack(env),
            msteams=_msteams(env),
            session_idle_minutes=_int(env, "COMPOUND_SESSION_IDLE_MINUTES", 120, minimum=1),
            session_max_hours=_int(env, "COMPOUND_SESSION_MAX_HOURS", 24 * 7, minimum=1),
            sso_clock_skew_seconds=_int(env, "COMPOUND_SSO_CLOCK_SKEW_SECONDS", 60),
        )

    def require_secret_key(self) -> str:
        """The key signing sessions, CSRF tokens and links, and keying pulse hashes."""
        if not self.secret_key:
            raise SettingsError(
                "COMPOUND_SECRET_KEY is not set: `make run` generates one; in production set "
                "it to a long random string (`openssl rand -hex 32`)"
            )
        return self.secret_key

    def require_database_url(self) -> str:
        """The database URL, or a clear error saying how to get one."""
        if not self.database_url:
            raise SettingsError(
                "DATABASE_URL is not set: start everything with `make run`, "
                "or point DATABASE_URL at a PostgreSQL server"
            )
        return self.database_url


def public_url(env: Mapping[str, str]) -> str:
    """``COMPOUND_PUBLIC_URL`` without its trailing slash, or the gateway's own address
    (``HOST``: a wildcard address is reached as 127.0.0.1; ``PORT``).

    Raises:
        SettingsError: the URL is not http(s) with a host.
    """
    raw = (env.get("COMPOUND_PUBLIC_URL") or "").strip().rstrip("/")
    if not raw:
        host = env.get("HOST") or "127.0.0.1"
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "[::]") else host
        return f"http://{host}:{_int(dict(env), 'PORT', 8000, minimum=1)}"
    scheme, _, rest = raw.partition("://")
    if scheme not in ("http", "https") or not rest or rest.startswith("/"):
        raise SettingsError(
            f"COMPOUND_PUBLIC_URL must be an http(s) URL such as https://compound.example.com, "
            f"got {raw!r}"
        )
    return raw


def _ids(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of UUIDs (normalised), or a :class:`SettingsError`."""
    ids = []
    for raw in (env.get(name) or "").split(","):
        if raw.strip():
            try:
                ids.append(str(uuid.UUID(raw.strip())))
            except ValueError:
                raise SettingsError(f"{name}: {raw.strip()!r} is not an organisation id") from None
    return tuple(ids)
