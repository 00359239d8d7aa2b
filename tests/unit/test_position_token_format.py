"""The position token's construction (shared/read_tokens.py): a synthetic IV, HMAC-SHA256 of
the tenant and the position under a key of its own, then AES-GCM with the tenant as associated
data. Tokens already handed out must keep opening, so the bytes may not change."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.read_tokens import TOKEN_PREFIX, PositionTokens

SECRET = "s" * 64


def reference_seal(secret: str, tenant_id: uuid.UUID, position: int) -> str:
    root = secret.encode()
    key = hmac.new(root, b"position-token:key", hashlib.sha256).digest()
    iv_key = hmac.new(root, b"position-token:iv", hashlib.sha256).digest()
    plain = position.to_bytes(8, "big")
    nonce = hmac.new(iv_key, tenant_id.bytes + plain, hashlib.sha256).digest()[:12]
    sealed = AESGCM(key).encrypt(nonce, plain, tenant_id.bytes)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def test_a_token_is_the_reference_construction_and_opens_to_its_position():
    tokens = PositionTokens(SECRET)
    for position in (0, 1, 7_406, 2**40 + 3):
        tenant = uuid.uuid4()
        token = tokens.seal(tenant, position)
        assert token == reference_seal(SECRET, tenant, position)
        assert tokens.open(tenant, token) == position
