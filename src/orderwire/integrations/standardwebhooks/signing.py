"""The Standard Webhooks symmetric signature scheme, for sending and for receivers that verify.

Spec: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
- Signed content: `{webhook-id}.{webhook-timestamp}.{body}` (the exact bytes sent).
- Key: the secret `whsec_<base64>` with the prefix removed, base64-decoded.
- `webhook-signature: v1,<base64 HMAC-SHA256>`; a space-delimited list (several keys during a
  rotation): a receiver accepts when any `v1` entry matches, compared in constant time.
- `webhook-timestamp`: integer Unix seconds of the attempt; receivers bound its age (5 minutes in the
  reference libraries) to refuse replays.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from orderwire.integrations.signatures import equal

PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


class SignatureError(ValueError):
    """A request that does not carry a valid Standard Webhooks signature."""


def decode_secret(secret: str) -> bytes:
    """The signing key of a `whsec_<base64>` secret (the prefix is optional)."""
    try:
        return base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a Standard Webhooks secret is whsec_ followed by base64") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value, `v1,<base64>`, for these bytes."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(decode_secret(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(secret: str, received: Mapping[str, str], body: bytes, now: datetime) -> None:
    """Raise SignatureError unless `received` headers sign `body` with `secret`, recently enough."""
    lower = {k.lower(): v for k, v in received.items()}
    msg_id, stamp, signatures = (
        lower.get(h, "") for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not (msg_id and stamp and signatures):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not an integer") from exc
    if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("webhook-timestamp too old or too new")
    expected = sign(secret, msg_id, timestamp, body).partition(",")[2]
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version == "v1" and equal(value, expected):
            return
    raise SignatureError("no matching v1 signature")
