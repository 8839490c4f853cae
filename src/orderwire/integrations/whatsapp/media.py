"""Downloading media a customer sent, through the Graph API.

Source: developers.facebook.com/docs/whatsapp/cloud-api/reference/media ("Retrieve media URL":
`GET /{version}/{media-id}` with the Bearer token answers `{"messaging_product": "whatsapp", "url",
"mime_type", "sha256", "file_size", "id"}`; "Download media": `GET <url>` with the same Bearer token
answers the bytes; the URL expires after 5 minutes, so fetch it again when it has). Meta's `sha256` is
checked against the bytes received.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from urllib.parse import quote

import httpx


class MediaError(Exception):
    """The media could not be fetched; `retryable` says whether trying again may help."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Media:
    """Downloaded media: its bytes, MIME type and SHA-256 (hex)."""

    data: bytes
    mime: str
    sha256: str


def _same_hash(announced: str, digest: bytes) -> bool:
    """Meta's `sha256` has been seen as hex and as base64: accept either spelling of our digest."""
    return announced in (digest.hex(), base64.b64encode(digest).decode())


class MediaClient:
    """Fetches inbound media: the URL from the media id, then the bytes, within a size limit."""

    def __init__(self, base_url: str, token: str, max_bytes: int, timeout: float = 20.0):
        self._base = base_url.rstrip("/")
        self._max = max_bytes
        self._http = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {token}"})

    def fetch(self, media_id: str) -> Media:
        """The media's bytes, checked against Meta's size and hash; raises MediaError."""
        info = self._json(f"{self._base}/{quote(media_id, safe='')}")
        url, mime = str(info.get("url") or ""), str(info.get("mime_type") or "")
        if not url.startswith(("https://", "http://")):
            raise MediaError("media answer has no download url")
        size = str(info.get("file_size") or "0")
        if size.isdigit() and int(size) > self._max:
            raise MediaError(f"media is {size} bytes (limit {self._max})", retryable=False)
        data = self._download(url)
        digest = hashlib.sha256(data).digest()
        announced = str(info.get("sha256") or "")
        if announced and not _same_hash(announced, digest):
            raise MediaError("downloaded bytes do not match the announced sha256")
        return Media(data, mime, digest.hex())

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def _json(self, url: str) -> dict[str, object]:
        try:
            answer = self._http.get(url)
        except httpx.HTTPError as exc:
            raise MediaError(f"media lookup: {type(exc).__name__}") from exc
        if answer.status_code != 200:
            raise MediaError(f"media lookup HTTP {answer.status_code}", retryable=answer.status_code >= 500)
        try:
            body = answer.json()
        except ValueError as exc:
            raise MediaError("media lookup answer is not JSON") from exc
        if not isinstance(body, dict):
            raise MediaError("media lookup answer is not an object")
        return body

    def _download(self, url: str) -> bytes:
        chunks: list[bytes] = []
        received = 0
        try:
            with self._http.stream("GET", url) as answer:
                if answer.status_code != 200:
                    # 404 or 401 once the URL expired: looking the media up again gives a fresh one.
                    raise MediaError(f"media download HTTP {answer.status_code}")
                for chunk in answer.iter_bytes():
                    received += len(chunk)
                    if received > self._max:
                        raise MediaError(f"media larger than {self._max} bytes", retryable=False)
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise MediaError(f"media download: {type(exc).__name__}") from exc
        return b"".join(chunks)
