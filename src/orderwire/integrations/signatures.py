"""HMAC helpers shared by the vendor adapters (constant-time comparison everywhere)."""

from __future__ import annotations

import base64
import hashlib
import hmac


def hmac_sha256_hex(secret: bytes, message: bytes) -> str:
    """Lowercase hex HMAC-SHA256."""
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def hmac_sha256_base64(secret: bytes, message: bytes) -> str:
    """Base64 HMAC-SHA256."""
    return base64.b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode()


def equal(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode(), b.encode())
