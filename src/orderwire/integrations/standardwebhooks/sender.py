"""POST one signed Standard Webhooks attempt; the caller decides what the answer means.

Redirects are not followed (the spec: a 3xx is a failure; the receiver should update its URL).
"""

from __future__ import annotations

import httpx

from orderwire.integrations.standardwebhooks.signing import headers

USER_AGENT = "Orderwire-Webhooks/1"


def post(
    client: httpx.Client, url: str, secret: str, msg_id: str, timestamp: int, body: bytes
) -> httpx.Response:
    """Send `body` to `url`, signed for this attempt; transport errors and timeouts raise httpx errors."""
    signed = headers(secret, msg_id, timestamp, body)
    return client.post(
        url,
        content=body,
        headers={**signed, "content-type": "application/json", "user-agent": USER_AGENT},
        follow_redirects=False,
    )
