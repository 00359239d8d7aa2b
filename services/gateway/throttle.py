"""Failure throttles: after repeated wrong answers for one key (an e-mail address, a person,
an address asking for password resets), the caller waits, doubling each time.

One :class:`Throttle` per place a secret is checked (login, change password, second factor,
reset). The counts live in Redis, so every gateway process sees the same ones; a request
on one process cannot dodge the wait another process imposed.

If Redis is down, a throttle lets the caller through (a login should not fail because the
counter is unreachable) and logs nothing more than the miss.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.resources import resources
from shared.i18n import ngettext


@dataclass(frozen=True)
class Throttle:
    """Failures of one kind, counted per key.

    Attributes:
        name: the kind of check (``login``, ``password``, ``totp``, ``reset``); part of the
            Redis key, so kinds never share a count.
        free: failures allowed before the first wait.
        max_wait: the longest wait, in seconds.
    """

    name: str
    free: int = 5
    max_wait: int = 900

    def _key(self, key: str) -> str:
        return f"compound:throttle:{self.name}:{key.strip().lower()}"

    def wait(self, key: str) -> int:
        """Seconds the caller must wait before trying ``key`` again (0: go ahead)."""
        try:
            r = resources().redis
            name = self._key(key)
            failures = int(r.get(name) or 0)  # type: ignore[arg-type]
            if failures < self.free:
                return 0
            return max(0, int(r.ttl(name + ":lock")))  # type: ignore[arg-type]
        except Exception:  # Redis down: no throttle rather than no login
            return 0

    def record(self, key: str, ok: bool) -> None:
        """Count a failure for ``key`` (starting or lengthening its wait), or clear its count
        after a success."""
        try:
            r = resources().redis
            name = self._key(key)
            if ok:
                r.delete(name, name + ":lock")
                return
            failures = int(r.incr(name))  # type: ignore[arg-type]
            r.expire(name, self.max_wait * 2)
            if failures >= self.free:
                wait = min(2 ** (failures - self.free + 1), self.max_wait)
                r.set(name + ":lock", 1, ex=wait)
        except Exception:
            return


def wait_text(seconds: int) -> str:
    """A wait as people say it, in the current language: "1 second", "45 seconds",
    "2 minutes" (a wait of a minute or more in whole minutes, rounded up, so the caller never
    comes back too early).

    Parameters:
        seconds: the wait, as :meth:`Throttle.wait` returns it.
    """
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    return ngettext("%(num)d minute", "%(num)d minutes", -(-seconds // 60))


LOGIN = Throttle("login")
"""Wrong passwords at ``/login`` and ``POST /api/v1/auth/token``, per e-mail address."""

PASSWORD = Throttle("password")
"""Wrong current passwords when changing one's password (``/account/password``), per person."""

SECOND_FACTOR = Throttle("totp")
"""Wrong TOTP or recovery codes (login's second step, disabling TOTP), per person."""
