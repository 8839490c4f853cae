"""Where media customers send are kept: a local folder (setting media_dir), content-addressed by SHA-256.

Files are named `<first two hex digits>/<sha256><extension>`, written to a temporary name and renamed, so
a reader never sees half a file and the same bytes are stored once. An S3-compatible store is not built:
a deployment with several hosts should mount one shared folder (or add a second MediaStore here).
"""

from __future__ import annotations

import mimetypes
import os
import secrets
from pathlib import Path
from typing import Protocol


class MediaStore(Protocol):
    """Keeps media bytes under a key."""

    def put(self, data: bytes, sha256: str, mime: str) -> str:
        """Store `data` (whose SHA-256 hex is `sha256`); returns its key."""
        ...

    def get(self, key: str) -> bytes | None:
        """The bytes stored under `key`, or None."""
        ...


class LocalMediaStore:
    """Media in a local folder."""

    def __init__(self, root: str | Path):
        self._root = Path(root)

    def put(self, data: bytes, sha256: str, mime: str) -> str:
        """Write once; the same bytes again reuse the existing file."""
        extension = mimetypes.guess_extension(mime.split(";")[0].strip()) or ".bin"
        key = f"{sha256[:2]}/{sha256}{extension}"
        path = self._root / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
            temporary.write_bytes(data)
            os.replace(temporary, path)
        return key

    def get(self, key: str) -> bytes | None:
        """Read a stored file; keys outside the folder are refused."""
        path = (self._root / key).resolve()
        if self._root.resolve() not in path.parents or not path.is_file():
            return None
        return path.read_bytes()
