"""Is this request from Slack? Its v0 signature, its age and whether it was seen before.

Slack signs each request: ``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}`` under the app's
signing secret, in ``X-Slack-Signature``, the timestamp in ``X-Slack-Request-Timestamp``.
``slack_sdk``'s :class:`SignatureVerifier` checks the signature and a five-minute window; a
signature seen within that window is a replay (Slack's own retries are signed anew, with
``X-Slack-Retry-Num``), so each is remembered in Redis for a little longer than the window.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import redis
from slack_sdk.signature import Clock, SignatureVerifier

WINDOW_SECONDS = 5 * 60
"""How old a request may be (Slack's documented window, slack_sdk's too)."""
SEEN_SECONDS = WINDOW_SECONDS + 60
"""How long a signature is remembered: past the window a replay is stale anyway."""


class FixedClock(Clock):
    """A clock that says ``now`` (tests, and the replay check on the same instant)."""

    def __init__(self, now: float):
        self._now = now

    def now(self) -> float:
        return self._now


@dataclass(frozen=True)
class Verdict:
    """Whether a request may be served, and why not."""

    ok: bool
    reason: str = ""


def check_request(
    signing_secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    seen: redis.Redis,
    namespace: str,
    now: float | None = None,
) -> Verdict:
    """Check a request from Slack before anything reads its body.

    Parameters:
        signing_secret: the app's signing secret.
        body: the raw request body, exactly as received.
        timestamp: its ``X-Slack-Request-Timestamp`` header.
        signature: its ``X-Slack-Signature`` header.
        seen: Redis, where signatures of the last :data:`SEEN_SECONDS` are kept.
        namespace: the key prefix in Redis (the deployment's queue namespace).
        now: the current time (default: the clock).

    Returns:
        ``ok``, or the reason it is refused: ``signature`` (missing, wrong secret, tampered
        body), ``stale`` (outside the window) or ``replayed``.

    Raises:
        redis.RedisError: Redis cannot be reached (the caller answers 503: Slack retries).
    """
    moment = time.time() if now is None else now
    stamp = timestamp or ""
    if not stamp.isdigit() or not signature:
        return Verdict(False, "signature")
    if abs(moment - int(stamp)) > WINDOW_SECONDS:
        return Verdict(False, "stale")
    verifier = SignatureVerifier(signing_secret, clock=FixedClock(moment))
    if not verifier.is_valid(body=body, timestamp=stamp, signature=signature):
        return Verdict(False, "signature")
    digest = hashlib.sha256(signature.encode()).hexdigest()
    if not seen.set(f"{namespace}:slack-seen:{digest}", b"1", nx=True, ex=SEEN_SECONDS):
        return Verdict(False, "replayed")
    return Verdict(True)


def sign(signing_secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers Slack would send with ``body`` at ``timestamp`` (the stand-in, tests).

    Parameters:
        signing_secret: the app's signing secret.
        body: the request body.
        timestamp: seconds since the epoch.

    Returns:
        ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``.
    """
    signature = SignatureVerifier(signing_secret).generate_signature(
        timestamp=str(timestamp), body=body
    )
    assert signature is not None
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}
