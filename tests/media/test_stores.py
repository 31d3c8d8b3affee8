"""Both stores, through what a browser does: signed requests sent with plain HTTP to the
local store's routes (Tenon served by uvicorn) or to the S3 server (moto), then the
store's own reads, playback and deletion."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from app.media.store import MediaStore, MediaStoreError, SignedRequest, UploadedPart

KEY = "recordings/17/day-4.webm"
CONTENT_TYPE = "video/webm"
MINUTES = timedelta(minutes=5)
PART_ONE = 5 * 1024 * 1024


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def send(http: httpx.AsyncClient, request: SignedRequest, body: bytes) -> httpx.Response:
    return await http.request(request.method, request.url, content=body, headers=request.headers)


async def upload_parts(
    store: MediaStore, http: httpx.AsyncClient, upload_id: str, parts: list[bytes]
) -> list[UploadedPart]:
    uploaded = []
    for number, body in enumerate(parts, start=1):
        signed = await store.presign_part(KEY, upload_id, number, expires_in=MINUTES)
        response = await send(http, signed, body)
        assert response.status_code == 200, response.text
        uploaded.append(UploadedPart(number, response.headers["ETag"]))
    return uploaded


async def test_an_object_is_uploaded_read_played_back_and_deleted(
    media_store: MediaStore, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    data = os.urandom(300_000)
    signed = await media_store.presign_upload(
        KEY, content_type=CONTENT_TYPE, size=len(data), expires_in=MINUTES
    )
    assert signed.method == "PUT"
    assert signed.url.startswith("http://127.0.0.1:")
    assert signed.headers["Content-Type"] == CONTENT_TYPE
    uploaded = await send(http, signed, data)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.headers["ETag"]

    stored = await media_store.stat(KEY)
    assert stored is not None
    assert stored.size == len(data)
    assert await media_store.read_prefix(KEY, 12) == data[:12]
    assert await media_store.read_prefix(KEY, 1_000_000) == data
    copy = tmp_path / "copy.webm"
    await media_store.download(KEY, copy)
    assert copy.read_bytes() == data

    playback = await media_store.presign_download(
        KEY, expires_in=MINUTES, content_type=CONTENT_TYPE, filename="day 4.webm"
    )
    assert playback.method == "GET"
    whole = await http.get(playback.url)
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["Content-Type"] == CONTENT_TYPE
    assert whole.headers["Content-Disposition"].startswith("inline;")
    assert "day%204.webm" in whole.headers["Content-Disposition"]
    ranged = await http.get(playback.url, headers={"Range": "bytes=1000-1999"})
    assert ranged.status_code == 206
    assert ranged.content == data[1000:2000]
    assert ranged.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"

    await media_store.delete(KEY)
    assert await media_store.stat(KEY) is None
    await media_store.delete(KEY)
    with pytest.raises(MediaStoreError):
        await media_store.read_prefix(KEY, 12)
    with pytest.raises(MediaStoreError):
        await media_store.download(KEY, tmp_path / "gone.webm")


async def test_an_empty_object_has_an_empty_prefix(
    media_store: MediaStore, http: httpx.AsyncClient
) -> None:
    signed = await media_store.presign_upload(
        KEY, content_type=CONTENT_TYPE, size=0, expires_in=MINUTES
    )
    assert (await send(http, signed, b"")).status_code == 200
    stored = await media_store.stat(KEY)
    assert stored is not None
    assert stored.size == 0
    assert await media_store.read_prefix(KEY, 16) == b""


async def test_a_multipart_upload_joins_its_parts_in_order(
    media_store: MediaStore, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    parts = [os.urandom(PART_ONE), os.urandom(4321)]
    upload_id = await media_store.start_multipart(KEY, content_type=CONTENT_TYPE)
    uploaded = await upload_parts(media_store, http, upload_id, parts)
    await media_store.complete_multipart(KEY, upload_id, uploaded)

    stored = await media_store.stat(KEY)
    assert stored is not None
    assert stored.size == PART_ONE + 4321
    copy = tmp_path / "joined.webm"
    await media_store.download(KEY, copy)
    assert copy.read_bytes() == b"".join(parts)


async def test_completing_with_a_wrong_etag_fails_and_abort_drops_the_upload(
    media_store: MediaStore, http: httpx.AsyncClient
) -> None:
    parts = [os.urandom(PART_ONE), os.urandom(10)]
    upload_id = await media_store.start_multipart(KEY, content_type=CONTENT_TYPE)
    uploaded = await upload_parts(media_store, http, upload_id, parts)
    wrong = [uploaded[0], UploadedPart(2, '"0123456789abcdef0123456789abcdef"')]
    with pytest.raises(MediaStoreError):
        await media_store.complete_multipart(KEY, upload_id, wrong)
    assert await media_store.stat(KEY) is None

    await media_store.abort_multipart(KEY, upload_id)
    # The parts are gone: even the right ETags complete nothing now.
    with pytest.raises(MediaStoreError):
        await media_store.complete_multipart(KEY, upload_id, uploaded)
    assert await media_store.stat(KEY) is None
    await media_store.abort_multipart(KEY, upload_id)


async def test_a_part_too_small_before_the_last_is_refused_at_completion(
    media_store: MediaStore, http: httpx.AsyncClient
) -> None:
    upload_id = await media_store.start_multipart(KEY, content_type=CONTENT_TYPE)
    uploaded = await upload_parts(media_store, http, upload_id, [b"a" * 100, b"b" * 100])
    with pytest.raises(MediaStoreError):
        await media_store.complete_multipart(KEY, upload_id, uploaded)
    await media_store.abort_multipart(KEY, upload_id)


@pytest.mark.parametrize(
    "key", ["../escape.webm", "/etc/passwd", "a//b.webm", "a/./b.webm", "a/../../b", "a\\b", ""]
)
async def test_a_key_that_could_leave_its_folder_is_refused(
    media_store: MediaStore, key: str
) -> None:
    with pytest.raises(MediaStoreError):
        await media_store.presign_upload(key, content_type=CONTENT_TYPE, size=1, expires_in=MINUTES)
    with pytest.raises(MediaStoreError):
        await media_store.stat(key)
    with pytest.raises(MediaStoreError):
        await media_store.delete(key)
