"""A load generator of fault tests: clients posting actions over HTTP, each action retried
with its own Idempotency-Key until the gateway stores it, as a well-behaved client does."""

from __future__ import annotations

import http.client
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from tests.reliability.servers import Gateway

RETRY_PAUSE = 0.05  # a client honouring Retry-After, shortened for the tests


@dataclass
class ActionLoad:
    """``clients`` threads, each posting up to ``actions`` actions, ``pace`` seconds apart
    (fewer when :meth:`stop` is called first)."""

    gateway: Gateway
    headers: dict[str, str]
    clients: int = 4
    actions: int = 60
    pace: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    broken_connections: int = 0  # refused, reset or cut mid-response
    missing_retry_after: int = 0
    not_problem_json: int = 0
    notes: set[str] = field(default_factory=set)
    stored_at: dict[str, float] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def total(self) -> int:
        """The actions the clients set out to store (all of them, unless stopped early)."""
        with self._lock:
            return len(self.notes) if self._stop.is_set() else self.clients * self.actions

    def stop(self) -> None:
        """Each client finishes (stores) its current action and posts no more."""
        self._stop.set()

    def start(self) -> ActionLoad:
        self._threads = [
            threading.Thread(target=self._client, args=(i,), daemon=True)
            for i in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def join(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self._threads), "clients did not finish"

    def stored(self) -> int:
        with self._lock:
            return len(self.stored_at)

    def wait_stored(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.stored() < count:
            assert time.monotonic() < deadline, f"only {self.stored()} of {count} stored"
            time.sleep(0.02)

    def _client(self, index: int) -> None:
        for i in range(self.actions):
            if self._stop.is_set():
                return
            note = f"client {index} action {i} {uuid.uuid4().hex[:6]}"
            key = uuid.uuid4().hex
            with self._lock:
                self.notes.add(note)
            body = {"tactic": "learning_bit", "minutes": 10, "audience": "team", "note": note}
            while not self._post(note, body, key):
                time.sleep(RETRY_PAUSE)
            if self.pace:
                time.sleep(self.pace)

    def _post(self, note: str, body: dict[str, object], key: str) -> bool:
        try:
            status, headers, raw = self.gateway.call(
                "POST",
                "/api/v1/actions",
                body,
                {**self.headers, "Idempotency-Key": key},
                timeout=15,
            )
        except (OSError, http.client.HTTPException):
            with self._lock:
                self.broken_connections += 1
            return False
        with self._lock:
            self.statuses[status] += 1
            if status >= 500:
                if "Retry-After" not in headers:
                    self.missing_retry_after += 1
                if headers.get("Content-Type") != "application/problem+json":
                    self.not_problem_json += 1
            if status == 201:
                self.stored_at[note] = time.monotonic()
                return True
            if status != 503:
                self.unexpected.append(f"{status} {raw[:200]!r}")
        return False
