"""The local filesystem store, the default: objects are files under one folder, and the
signed URLs it hands out point at this API (app/media/router.py), which checks the token and
streams the bytes to or from disk.

Layout under the folder: `objects/<key>` (whole objects), `uploads/<id>/` (a multipart
upload: the `key` it is for and one file per part), `tmp/` (files being written; a rename
puts them in place, so a reader never sees half an object). An object's content type is not
kept: playback serves the one its signed URL states.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from app.core.clock import Clock, SystemClock
from app.core.errors import (
    AppError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
)
from app.media.signing import Grant, InvalidTokenError, Operation, TokenSigner
from app.media.store import (
    MediaStoreError,
    SignedRequest,
    StoredObject,
    UploadedPart,
    check_key,
)

CHUNK_BYTES = 1024 * 1024
# S3's limits, kept here so an upload that works on one store works on the other.
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PART_BYTES = 5 * 1024 * 1024 * 1024
MAX_PARTS = 10_000
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_BYTE_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.IGNORECASE)


class MediaSignatureInvalidError(ForbiddenError):
    code = "MEDIA_SIGNATURE_INVALID"

    def __init__(self) -> None:
        super().__init__("The media URL is not valid: it was altered or not made here.")


class MediaUrlExpiredError(ForbiddenError):
    code = "MEDIA_URL_EXPIRED"

    def __init__(self) -> None:
        super().__init__("The media URL has expired; ask for a new one.")


class MediaContentTypeMismatchError(BadRequestError):
    code = "MEDIA_CONTENT_TYPE_MISMATCH"

    def __init__(self, signed: str) -> None:
        super().__init__(f"The upload must be sent with Content-Type: {signed}.")


class MediaSizeMismatchError(BadRequestError):
    code = "MEDIA_SIZE_MISMATCH"

    def __init__(self, signed: int, received: int) -> None:
        super().__init__(f"The upload must be {signed} bytes; {received} were sent.")


class MediaTooLargeError(PayloadTooLargeError):
    code = "MEDIA_TOO_LARGE"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The upload exceeds the {limit} bytes it was signed for.")


class MediaNotFoundError(NotFoundError):
    code = "MEDIA_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("The media object does not exist (any more).")


class MediaUploadNotFoundError(NotFoundError):
    code = "MEDIA_UPLOAD_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("The multipart upload does not exist: it was completed or aborted.")


class RangeNotSatisfiableError(AppError):
    status = 416
    code = "MEDIA_RANGE_NOT_SATISFIABLE"

    def __init__(self, size: int) -> None:
        super().__init__(
            f"The requested range is outside the object's {size} bytes.",
            headers={"Content-Range": f"bytes */{size}"},
        )


@dataclass(frozen=True)
class Playback:
    """What a signed GET serves: bytes `start`..`end` (inclusive) of an open `size`-byte
    file (the reader closes it); `partial` when a Range asked for them."""

    grant: Grant
    file: BinaryIO
    size: int
    start: int
    end: int
    partial: bool


class LocalMediaStore:
    def __init__(
        self, directory: Path, *, secret_key: str, base_url: str, clock: Clock | None = None
    ) -> None:
        self._root = directory
        self._signer = TokenSigner(secret_key)
        # The absolute URL of the media routes: `{public API URL}{API prefix}/media`.
        self._base_url = base_url.rstrip("/")
        self._clock = clock or SystemClock()

    # ---- MediaStore ----------------------------------------------------------------------

    async def presign_upload(
        self, key: str, *, content_type: str, size: int, expires_in: timedelta
    ) -> SignedRequest:
        if size < 0:
            raise MediaStoreError(f"an object cannot have {size} bytes")
        grant = Grant(
            op="put",
            key=check_key(key),
            expires=self._expiry(expires_in),
            size=size,
            content_type=content_type,
        )
        # The length is signed too; clients send it from the body (browsers must).
        return self._upload_request(grant, {"Content-Type": content_type})

    async def start_multipart(self, key: str, *, content_type: str) -> str:
        check_key(key)
        upload_id = uuid.uuid4().hex
        await asyncio.to_thread(self._create_upload, upload_id, key)
        return upload_id

    async def presign_part(
        self, key: str, upload_id: str, number: int, *, expires_in: timedelta
    ) -> SignedRequest:
        if not 1 <= number <= MAX_PARTS:
            raise MediaStoreError(f"part numbers run from 1 to {MAX_PARTS} (got {number})")
        grant = Grant(
            op="part",
            key=check_key(key),
            expires=self._expiry(expires_in),
            upload_id=self._check_upload_id(upload_id),
            part=number,
        )
        return self._upload_request(grant, {})

    async def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[UploadedPart]
    ) -> None:
        target = self._object_path(key)
        upload = self._upload_dir(upload_id)
        await asyncio.to_thread(self._join_parts, upload, key, list(parts), target)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        upload = self._upload_dir(upload_id)

        def abort() -> None:
            if _upload_key(upload) == check_key(key):
                shutil.rmtree(upload, ignore_errors=True)

        await asyncio.to_thread(abort)

    async def stat(self, key: str) -> StoredObject | None:
        path = self._object_path(key)
        try:
            info = await asyncio.to_thread(path.stat)
        except FileNotFoundError:
            return None
        return StoredObject(
            size=info.st_size, last_modified=datetime.fromtimestamp(info.st_mtime, UTC)
        )

    async def read_prefix(self, key: str, length: int) -> bytes:
        path = self._object_path(key)

        def read() -> bytes:
            with path.open("rb") as file:
                return file.read(length)

        try:
            return await asyncio.to_thread(read)
        except FileNotFoundError:
            raise MediaStoreError(f"no object at {key!r}") from None

    async def download(self, key: str, destination: Path) -> None:
        path = self._object_path(key)

        def copy() -> None:
            try:
                source = path.open("rb")
            except FileNotFoundError:
                raise MediaStoreError(f"no object at {key!r}") from None
            with source, destination.open("wb") as target:
                shutil.copyfileobj(source, target, CHUNK_BYTES)

        await asyncio.to_thread(copy)

    async def presign_download(
        self, key: str, *, expires_in: timedelta, content_type: str, filename: str
    ) -> SignedRequest:
        grant = Grant(
            op="get",
            key=check_key(key),
            expires=self._expiry(expires_in),
            content_type=content_type,
            filename=filename,
        )
        token = self._signer.sign(grant)
        return SignedRequest("GET", f"{self._base_url}/{token}", grant.expires_at)

    async def delete(self, key: str) -> None:
        path = self._object_path(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    # ---- what the signed URLs' routes do -------------------------------------------------

    async def receive(
        self,
        token: str,
        *,
        content_type: str | None,
        content_length: int | None,
        body: AsyncIterator[bytes],
    ) -> str:
        """Store the body of a signed PUT (a whole object or a part) and return its ETag.
        The body streams to a temporary file and is renamed into place once complete."""
        grant = self._grant(token, ("put", "part"))
        if grant.op == "put":
            assert grant.size is not None
            assert grant.content_type is not None
            if content_type != grant.content_type:
                raise MediaContentTypeMismatchError(grant.content_type)
            limit, exact = grant.size, True
            target = self._object_path(grant.key)
        else:
            limit, exact = MAX_PART_BYTES, False
            upload = self._upload_dir(grant.upload_id or "")
            if await asyncio.to_thread(_upload_key, upload) != grant.key:
                raise MediaUploadNotFoundError()
            target = upload / str(grant.part)
        if content_length is not None and content_length > limit:
            raise MediaTooLargeError(limit)
        if exact and content_length is not None and content_length < limit:
            raise MediaSizeMismatchError(limit, content_length)
        return await self._write(target, body, limit, exact=exact)

    def playback(self, token: str, range_header: str | None) -> Playback:
        """What a signed GET serves (call it in a thread: it opens the file, so a delete
        from now on no longer matters to this answer)."""
        grant = self._grant(token, ("get",))
        try:
            file = self._object_path(grant.key).open("rb")
        except FileNotFoundError:
            raise MediaNotFoundError() from None
        try:
            size = os.fstat(file.fileno()).st_size
            byte_range = _parse_range(range_header, size)
        except BaseException:
            file.close()
            raise
        if byte_range is None:
            return Playback(grant, file, size, 0, size - 1, partial=False)
        return Playback(grant, file, size, *byte_range, partial=True)

    # ---- internals -----------------------------------------------------------------------

    def _grant(self, token: str, ops: tuple[Operation, ...]) -> Grant:
        try:
            grant = self._signer.verify(token)
        except InvalidTokenError:
            raise MediaSignatureInvalidError() from None
        if grant.op not in ops:
            raise MediaSignatureInvalidError()
        if grant.expired(self._clock.now()):
            raise MediaUrlExpiredError()
        return grant

    def _expiry(self, expires_in: timedelta) -> int:
        return int((self._clock.now() + expires_in).timestamp())

    def _upload_request(self, grant: Grant, headers: dict[str, str]) -> SignedRequest:
        token = self._signer.sign(grant)
        url = f"{self._base_url}/uploads/{token}"
        return SignedRequest("PUT", url, grant.expires_at, headers)

    def _object_path(self, key: str) -> Path:
        return self._root / "objects" / check_key(key)

    def _upload_dir(self, upload_id: str) -> Path:
        return self._root / "uploads" / self._check_upload_id(upload_id)

    @staticmethod
    def _check_upload_id(upload_id: str) -> str:
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise MediaStoreError("unknown multipart upload")
        return upload_id

    def _create_upload(self, upload_id: str, key: str) -> None:
        upload = self._root / "uploads" / upload_id
        upload.mkdir(parents=True)
        (upload / "key").write_text(key)

    def _temporary(self) -> Path:
        folder = self._root / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / uuid.uuid4().hex

    async def _write(
        self, target: Path, body: AsyncIterator[bytes], limit: int, *, exact: bool
    ) -> str:
        temporary = await asyncio.to_thread(self._temporary)
        digest = hashlib.md5()  # noqa: S324 - an ETag as S3 makes it, not a security hash
        received = 0
        file = await asyncio.to_thread(temporary.open, "wb")
        try:
            async for chunk in body:
                received += len(chunk)
                if received > limit:
                    raise MediaTooLargeError(limit)
                await asyncio.to_thread(_write_chunk, file, digest, chunk)
            await asyncio.to_thread(file.close)
            if exact and received != limit:
                raise MediaSizeMismatchError(limit, received)
            # A part goes into its upload's folder only while that exists (not aborted).
            await asyncio.to_thread(_move, temporary, target, parents=exact)
        finally:
            await asyncio.to_thread(_discard, file, temporary)
        return f'"{digest.hexdigest()}"'

    def _join_parts(self, upload: Path, key: str, parts: list[UploadedPart], target: Path) -> None:
        if _upload_key(upload) != key:
            raise MediaStoreError("unknown multipart upload")
        numbers = [part.number for part in parts]
        if not parts or numbers != sorted(set(numbers)):
            raise MediaStoreError("parts must be listed once each, in ascending order")
        files = [upload / str(number) for number in numbers]
        for part, file in zip(parts, files, strict=True):
            if not file.is_file() or _etag_of(file) != part.etag.strip('"'):
                raise MediaStoreError(f"part {part.number} is missing or its ETag differs")
        if any(file.stat().st_size < MIN_PART_BYTES for file in files[:-1]):
            raise MediaStoreError(f"every part but the last must be at least {MIN_PART_BYTES}")
        temporary = self._temporary()
        try:
            with temporary.open("wb") as joined:
                for file in files:
                    with file.open("rb") as source:
                        shutil.copyfileobj(source, joined, CHUNK_BYTES)
            _move(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        shutil.rmtree(upload, ignore_errors=True)


def _write_chunk(file: BinaryIO, digest: hashlib._Hash, chunk: bytes) -> None:
    file.write(chunk)
    digest.update(chunk)


def _move(temporary: Path, target: Path, *, parents: bool = True) -> None:
    if parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(temporary, target)
    except FileNotFoundError:
        # Only a part can miss its folder: the upload was aborted meanwhile.
        raise MediaUploadNotFoundError() from None


def _upload_key(upload: Path) -> str | None:
    """The key a multipart upload is for; None when there is no such upload."""
    try:
        return (upload / "key").read_text()
    except FileNotFoundError:
        return None


def _discard(file: BinaryIO, temporary: Path) -> None:
    """After a write: close the file and drop the temporary one if it was not moved."""
    file.close()
    temporary.unlink(missing_ok=True)


def _etag_of(path: Path) -> str:
    digest = hashlib.md5()  # noqa: S324 - an ETag, as above
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range a `Range` header asks for, as (first, last) inclusive; None to
    serve the whole object (no header, or one that is not a single valid byte range, which
    RFC 9110 lets a server ignore). `RangeNotSatisfiableError` when it lies outside."""
    match = _BYTE_RANGE.fullmatch(header.strip()) if header else None
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # a suffix: the last N bytes
        if int(last_text) == 0 or size == 0:
            raise RangeNotSatisfiableError(size)
        return max(size - int(last_text), 0), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None
    if first >= size:
        raise RangeNotSatisfiableError(size)
    return first, min(int(last_text), size - 1) if last_text else size - 1
