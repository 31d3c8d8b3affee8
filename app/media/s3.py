"""The S3-compatible store (AWS S3, MinIO, Cloudflare R2) through aioboto3.

A client is opened per operation: the store is used a handful of times per recording, so a
fresh client costs little, needs no hook in the API's lifespan nor in `tenon worker`, and
never outlives the event loop it was made on. Presigning needs no network; the rest does,
and any failure of it (refused, unreachable, unknown upload, wrong ETag) is a
`MediaStoreError` whose message names the operation and the S3 error code, never a key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import aioboto3
import aiohttp
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

from app.core.settings import StorageSettings
from app.media.store import (
    MediaStoreError,
    SignedRequest,
    StoredObject,
    UploadedPart,
    check_key,
)

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

CHUNK_BYTES = 1024 * 1024
_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})


class S3MediaStore:
    def __init__(self, settings: StorageSettings) -> None:
        if settings.bucket is None:
            raise ValueError("S3MediaStore needs TENON_STORAGE_URL=s3://bucket")
        self._bucket = settings.bucket
        self._prefix = settings.key_prefix
        self._endpoint_url = settings.endpoint_url
        secret = settings.secret_access_key
        self._session = aioboto3.Session(
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            region_name=settings.region,
        )
        self._config = AioConfig(
            signature_version="s3v4",
            s3={"addressing_style": "path" if settings.path_style else "auto"},
            connect_timeout=5,
            read_timeout=30,
            # One retry: callers are requests (a user waits) and jobs (retried on their own).
            retries={"mode": "standard", "max_attempts": 2},
        )

    async def presign_upload(
        self, key: str, *, content_type: str, size: int, expires_in: timedelta
    ) -> SignedRequest:
        params = {
            "Bucket": self._bucket,
            "Key": self._key(key),
            # Both become signed headers: the store refuses another type or length.
            "ContentType": content_type,
            "ContentLength": size,
        }
        url = await self._presign("put_object", params, expires_in)
        return SignedRequest("PUT", url, _expiry(expires_in), {"Content-Type": content_type})

    async def start_multipart(self, key: str, *, content_type: str) -> str:
        async with self._client("create_multipart_upload") as s3:
            created = await s3.create_multipart_upload(
                Bucket=self._bucket, Key=self._key(key), ContentType=content_type
            )
        return created["UploadId"]

    async def presign_part(
        self, key: str, upload_id: str, number: int, *, expires_in: timedelta
    ) -> SignedRequest:
        params = {
            "Bucket": self._bucket,
            "Key": self._key(key),
            "UploadId": upload_id,
            "PartNumber": number,
        }
        url = await self._presign("upload_part", params, expires_in)
        return SignedRequest("PUT", url, _expiry(expires_in))

    async def complete_multipart(
        self, key: str, upload_id: str, parts: Sequence[UploadedPart]
    ) -> None:
        async with self._client("complete_multipart_upload") as s3:
            await s3.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key(key),
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": part.number, "ETag": part.etag} for part in parts]
                },
            )

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        async with self._client("abort_multipart_upload", ignore={"NoSuchUpload"}) as s3:
            await s3.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key(key), UploadId=upload_id
            )

    async def stat(self, key: str) -> StoredObject | None:
        try:
            async with self._client("head_object") as s3:
                head = await s3.head_object(Bucket=self._bucket, Key=self._key(key))
        except _MissingError:
            return None
        return StoredObject(size=head["ContentLength"], last_modified=head["LastModified"])

    async def read_prefix(self, key: str, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            async with self._client("get_object", ignore={"InvalidRange"}) as s3:
                got = await s3.get_object(
                    Bucket=self._bucket, Key=self._key(key), Range=f"bytes=0-{length - 1}"
                )
                body = got["Body"]
                async with body:  # releases the connection; `as` would give the raw response
                    return await body.read()
        except _MissingError:
            raise MediaStoreError("get_object failed: NoSuchKey") from None
        # Only an empty object has no byte 0 (InvalidRange).
        return b""

    async def download(self, key: str, destination: Path) -> None:
        try:
            async with self._client("get_object") as s3:
                got = await s3.get_object(Bucket=self._bucket, Key=self._key(key))
                file = await asyncio.to_thread(destination.open, "wb")
                try:
                    body = got["Body"]
                    async with body:
                        async for chunk in body.iter_chunks(CHUNK_BYTES):
                            await asyncio.to_thread(file.write, chunk)
                finally:
                    await asyncio.to_thread(file.close)
        except _MissingError:
            raise MediaStoreError("get_object failed: NoSuchKey") from None
        except BaseException:
            # Half a file is no copy: leave none.
            await asyncio.to_thread(destination.unlink, missing_ok=True)
            raise

    async def presign_download(
        self, key: str, *, expires_in: timedelta, content_type: str, filename: str
    ) -> SignedRequest:
        params = {
            "Bucket": self._bucket,
            "Key": self._key(key),
            "ResponseContentType": content_type,
            "ResponseContentDisposition": f"inline; filename*=UTF-8''{quote(filename, safe='')}",
            "ResponseCacheControl": "private, no-store",
        }
        url = await self._presign("get_object", params, expires_in)
        return SignedRequest("GET", url, _expiry(expires_in))

    async def delete(self, key: str) -> None:
        async with self._client("delete_object") as s3:
            await s3.delete_object(Bucket=self._bucket, Key=self._key(key))

    def _key(self, key: str) -> str:
        return self._prefix + check_key(key)

    async def _presign(
        self, operation: str, params: Mapping[str, object], expires_in: timedelta
    ) -> str:
        async with self._client(operation) as s3:
            url: str = await s3.generate_presigned_url(
                operation, Params=params, ExpiresIn=int(expires_in.total_seconds())
            )
        return url

    @asynccontextmanager
    async def _client(
        self, operation: str, *, ignore: frozenset[str] | set[str] = frozenset()
    ) -> AsyncIterator[S3Client]:
        """A client for one operation. S3 errors become `MediaStoreError` (`_MissingError` for a
        missing object, which callers turn into their answer); codes in `ignore` end the
        block quietly."""
        try:
            async with self._session.client(
                "s3", endpoint_url=self._endpoint_url, config=self._config
            ) as s3:
                yield s3
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "unknown"))
            if code in ignore:
                return
            if code in _NOT_FOUND:
                raise _MissingError() from None
            raise MediaStoreError(f"{operation} failed: {code}") from None
        except (BotoCoreError, aiohttp.ClientError, TimeoutError) as exc:
            # Connection failures, and a body cut off while it streams (aiohttp's own errors).
            raise MediaStoreError(f"{operation} failed: {type(exc).__name__}") from None


class _MissingError(MediaStoreError):
    """The object is not there (a 404 from S3)."""


def _expiry(expires_in: timedelta) -> datetime:
    return datetime.now(UTC) + expires_in
