"""What the rest of Tenon knows of object storage: signed requests a browser sends straight
to the store (single PUT or multipart parts), the stored object's size, its bytes, and its
deletion. Two implementations: the local filesystem store (the default, serving its own
signed URLs) and an S3-compatible store."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from app.core.errors import ServiceUnavailableError
from app.core.openapi import ErrorSpec


@dataclass(frozen=True)
class SignedRequest:
    """A request the client sends as given: no credentials of its own are needed."""

    method: str
    url: str
    expires_at: datetime
    # Headers the client must send exactly (they are part of the signature).
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadedPart:
    """One part of a multipart upload, as the client reports it after its PUT: the part's
    number (1-based) and the ETag header the store answered that PUT with."""

    number: int
    etag: str


@dataclass(frozen=True)
class StoredObject:
    size: int
    last_modified: datetime


class MediaStoreError(Exception):
    """The store failed or refused an operation (unreachable, denied, unknown upload)."""


class StorageUnavailableError(ServiceUnavailableError):
    """What a request answers when the store failed it (raise it from the MediaStoreError)."""

    code = "STORAGE_UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__(
            "The media storage is not reachable right now; try again shortly.",
            headers={"Retry-After": "5"},
        )


# For the `@raises` of routes that call the store.
STORAGE_UNAVAILABLE: ErrorSpec = (ServiceUnavailableError, StorageUnavailableError.code)

# A key is `/`-separated segments of these characters, none of them `.` or `..`: the same
# key then names the same object on every store, and never a path outside the local one.
_KEY_SEGMENT = re.compile(r"[A-Za-z0-9_.=-]+")
MAX_KEY_LENGTH = 512


def check_key(key: str) -> str:
    """`key` when both stores accept it; `MediaStoreError` otherwise."""
    segments = key.split("/")
    if len(key) > MAX_KEY_LENGTH or not all(
        _KEY_SEGMENT.fullmatch(segment) and segment not in (".", "..") for segment in segments
    ):
        raise MediaStoreError(f"invalid object key {key[:80]!r}")
    return key


class MediaStore(Protocol):
    async def presign_upload(
        self, key: str, *, content_type: str, size: int, expires_in: timedelta
    ) -> SignedRequest:
        """A single PUT of exactly `size` bytes of `content_type` to `key`."""
        ...

    async def start_multipart(self, key: str, *, content_type: str) -> str:
        """Begin a multipart upload to `key`; returns its upload id."""
        ...

    async def presign_part(
        self, key: str, upload_id: str, number: int, *, expires_in: timedelta
    ) -> SignedRequest:
        """The PUT of part `number` (1-based; every part but the last at least 5 MiB)."""
        ...

    async def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[UploadedPart]
    ) -> None:
        """Join the parts into the object at `key`. `MediaStoreError` when a part is missing
        or its ETag does not match."""
        ...

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        """Drop an unfinished multipart upload and its parts; no error if already gone."""
        ...

    async def stat(self, key: str) -> StoredObject | None:
        """The object at `key`, or None when there is none."""
        ...

    async def read_prefix(self, key: str, length: int) -> bytes:
        """Up to `length` bytes from the object's start (for sniffing its type)."""
        ...

    async def download(self, key: str, destination: Path) -> None:
        """Stream the object to a local file (never whole in memory)."""
        ...

    async def presign_download(
        self, key: str, *, expires_in: timedelta, content_type: str, filename: str
    ) -> SignedRequest:
        """A GET that plays the object back (Range requests honoured)."""
        ...

    async def delete(self, key: str) -> None:
        """Delete the object; no error if it is already gone."""
        ...
