"""The local store's own signed URLs, served by Tenon on uvicorn: what a tampered, expired,
oversized, short or mistyped upload gets, byte ranges, file names, and that these uploads
pass the request-size limit and the JSON boundary checks that every other route has."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.assembly import build_media_store
from app.core.db import Database
from app.core.settings import Settings, StorageSettings
from app.main import create_app
from app.media.store import MediaStore, MediaStoreError, SignedRequest, UploadedPart
from tests.support.api import assert_problem
from tests.support.app import make_settings
from tests.support.identity import IdentityProvider
from tests.support.jobs import FakeClock
from tests.support.media import served_local_store

KEY = "recordings/9/answer.webm"
CONTENT_TYPE = "video/webm"
MINUTES = timedelta(minutes=5)
PROBLEM = {"Accept": "application/problem+json"}


@pytest.fixture
async def served(
    local_storage: StorageSettings, database_url: str, idp: IdentityProvider, database: Database
) -> AsyncIterator[tuple[Settings, MediaStore]]:
    async with served_local_store(local_storage, database_url, idp.jwks_url, database) as both:
        yield both


@pytest.fixture
def store(served: tuple[Settings, MediaStore]) -> MediaStore:
    return served[1]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30, headers=PROBLEM) as client:
        yield client


async def presign(store: MediaStore, size: int, content_type: str = CONTENT_TYPE) -> SignedRequest:
    return await store.presign_upload(KEY, content_type=content_type, size=size, expires_in=MINUTES)


async def put(
    http: httpx.AsyncClient,
    signed: SignedRequest,
    body: bytes | AsyncIterator[bytes],
    **headers: str,
) -> httpx.Response:
    return await http.put(signed.url, content=body, headers=signed.headers | headers)


async def chunked(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """The body as a stream without Content-Length (sent chunked)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def tampered(url: str) -> str:
    head, token = url.rsplit("/", 1)
    statement, mac = token.split(".")
    return f"{head}/{statement}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}"


async def test_a_tampered_token_is_403_for_uploads_and_playback(
    store: MediaStore, http: httpx.AsyncClient
) -> None:
    signed = await presign(store, 4)
    bad = SignedRequest("PUT", tampered(signed.url), signed.expires_at, signed.headers)
    assert_problem(await put(http, bad, b"abcd"), 403, "MEDIA_SIGNATURE_INVALID")
    # A statement of its own with the MAC of another: a different key, same MAC.
    other = await store.presign_upload(
        "recordings/9/other.webm", content_type=CONTENT_TYPE, size=4, expires_in=MINUTES
    )
    spliced = (
        signed.url.rsplit("/", 1)[0]
        + "/"
        + (other.url.rsplit("/", 1)[1].split(".")[0] + "." + signed.url.rsplit(".", 1)[1])
    )
    response = await http.put(spliced, content=b"abcd", headers=signed.headers)
    assert_problem(response, 403, "MEDIA_SIGNATURE_INVALID")
    assert await store.stat(KEY) is None

    assert (await put(http, signed, b"abcd")).status_code == 200
    playback = await store.presign_download(
        KEY, expires_in=MINUTES, content_type=CONTENT_TYPE, filename="a.webm"
    )
    assert_problem(await http.get(tampered(playback.url)), 403, "MEDIA_SIGNATURE_INVALID")
    # An upload token is no playback token, nor the other way round.
    upload_as_get = playback.url.rsplit("/", 1)[0] + "/" + signed.url.rsplit("/", 1)[1]
    assert_problem(await http.get(upload_as_get), 403, "MEDIA_SIGNATURE_INVALID")
    get_as_upload = signed.url.rsplit("/", 1)[0] + "/" + playback.url.rsplit("/", 1)[1]
    response = await http.put(get_as_upload, content=b"abcd", headers=signed.headers)
    assert_problem(response, 403, "MEDIA_SIGNATURE_INVALID")
    assert_problem(
        await http.get(playback.url.rsplit("/", 1)[0] + "/garbage"), 403, "MEDIA_SIGNATURE_INVALID"
    )


async def test_an_expired_token_is_403(
    served: tuple[Settings, MediaStore], http: httpx.AsyncClient
) -> None:
    settings, store = served
    # The server's store as it was an hour ago: its URLs expired 55 minutes ago.
    earlier = build_media_store(settings, clock=FakeClock(datetime.now(UTC) - timedelta(hours=1)))
    signed = await earlier.presign_upload(
        KEY, content_type=CONTENT_TYPE, size=4, expires_in=MINUTES
    )
    assert_problem(await put(http, signed, b"abcd"), 403, "MEDIA_URL_EXPIRED")
    assert await store.stat(KEY) is None
    # Signed now, the same upload goes through; played back with an old URL it does not.
    assert (await put(http, await presign(store, 4), b"abcd")).status_code == 200
    playback = await earlier.presign_download(
        KEY, expires_in=MINUTES, content_type=CONTENT_TYPE, filename="a.webm"
    )
    assert_problem(await http.get(playback.url), 403, "MEDIA_URL_EXPIRED")


async def test_more_bytes_than_signed_are_413_and_leave_nothing(
    store: MediaStore, http: httpx.AsyncClient
) -> None:
    data = os.urandom(200_000)
    signed = await presign(store, len(data) - 1)
    # Declared up front, and found out while streaming (no Content-Length).
    assert_problem(await put(http, signed, data), 413, "MEDIA_TOO_LARGE")
    assert_problem(await put(http, signed, chunked(data)), 413, "MEDIA_TOO_LARGE")
    assert await store.stat(KEY) is None


async def test_fewer_bytes_than_signed_are_400_and_leave_nothing(
    store: MediaStore, http: httpx.AsyncClient
) -> None:
    data = os.urandom(200_000)
    signed = await presign(store, len(data) + 1)
    assert_problem(await put(http, signed, data), 400, "MEDIA_SIZE_MISMATCH")
    assert_problem(await put(http, signed, chunked(data)), 400, "MEDIA_SIZE_MISMATCH")
    assert await store.stat(KEY) is None


async def test_another_content_type_is_400(store: MediaStore, http: httpx.AsyncClient) -> None:
    signed = await presign(store, 4)
    response = await put(http, signed, b"abcd", **{"Content-Type": "video/mp4"})
    body = assert_problem(response, 400, "MEDIA_CONTENT_TYPE_MISMATCH")
    assert CONTENT_TYPE in body["detail"]
    no_type = await http.put(signed.url, content=b"abcd")
    assert_problem(no_type, 400, "MEDIA_CONTENT_TYPE_MISMATCH")
    assert await store.stat(KEY) is None


async def test_an_upload_above_the_request_body_limit_streams_through(
    served: tuple[Settings, MediaStore], http: httpx.AsyncClient
) -> None:
    settings, store = served
    data = os.urandom(settings.app.max_request_body_bytes * 2 + 1)
    for body in (data, chunked(data)):
        assert (await put(http, await presign(store, len(data)), body)).status_code == 200
        stored = await store.stat(KEY)
        assert stored is not None
        assert stored.size == len(data)


async def test_a_json_upload_with_a_nul_is_stored_not_refused_at_the_boundary(
    store: MediaStore, http: httpx.AsyncClient
) -> None:
    """Every other route refuses text PostgreSQL cannot store; an upload is bytes on disk."""
    data = b'{"note": "a\\u0000b"}'
    signed = await presign(store, len(data), content_type="application/json")
    assert (await put(http, signed, data)).status_code == 200
    assert await store.read_prefix(KEY, 100) == data


async def test_an_upload_completes_and_aborts_only_under_its_own_key(
    store: MediaStore, http: httpx.AsyncClient
) -> None:
    """As S3 answers NoSuchUpload (moto does not check: hence a local test)."""
    upload_id = await store.start_multipart(KEY, content_type=CONTENT_TYPE)
    signed = await store.presign_part(KEY, upload_id, 1, expires_in=MINUTES)
    response = await put(http, signed, b"abcd")
    assert response.status_code == 200
    part = [UploadedPart(1, response.headers["ETag"])]
    other = "recordings/10/answer.webm"
    with pytest.raises(MediaStoreError):
        await store.complete_multipart(other, upload_id, part)
    await store.abort_multipart(other, upload_id)
    # A part signed for another key does not land in this upload either.
    foreign = await store.presign_part(other, upload_id, 2, expires_in=MINUTES)
    assert_problem(await put(http, foreign, b"efgh"), 404, "MEDIA_UPLOAD_NOT_FOUND")
    await store.complete_multipart(KEY, upload_id, part)
    assert await store.read_prefix(KEY, 10) == b"abcd"
    assert await store.stat(other) is None


async def test_a_part_is_refused_once_its_upload_is_aborted(
    store: MediaStore, http: httpx.AsyncClient
) -> None:
    upload_id = await store.start_multipart(KEY, content_type=CONTENT_TYPE)
    signed = await store.presign_part(KEY, upload_id, 1, expires_in=MINUTES)
    await store.abort_multipart(KEY, upload_id)
    assert_problem(await put(http, signed, b"abcd"), 404, "MEDIA_UPLOAD_NOT_FOUND")


@pytest.mark.parametrize(
    ("range_header", "status", "expected"),
    [
        ("bytes=2-5", 206, (2, 5)),
        ("bytes=7-", 206, (7, 9)),
        ("bytes=-3", 206, (7, 9)),
        ("bytes=8-100", 206, (8, 9)),
        # Not one valid byte range: the whole object (RFC 9110 lets a server ignore it).
        ("bytes=5-2", 200, (0, 9)),
        ("bytes=0-1,4-5", 200, (0, 9)),
        ("items=0-1", 200, (0, 9)),
    ],
)
async def test_playback_serves_the_range_asked_for(
    store: MediaStore,
    http: httpx.AsyncClient,
    range_header: str,
    status: int,
    expected: tuple[int, int],
) -> None:
    data = b"0123456789"
    assert (await put(http, await presign(store, len(data)), data)).status_code == 200
    playback = await store.presign_download(
        KEY, expires_in=MINUTES, content_type=CONTENT_TYPE, filename="a.webm"
    )
    response = await http.get(playback.url, headers={"Range": range_header})
    first, last = expected
    assert response.status_code == status
    assert response.content == data[first : last + 1]
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Cache-Control"] == "private, no-store"
    if status == 206:
        assert response.headers["Content-Range"] == f"bytes {first}-{last}/10"


@pytest.mark.parametrize("range_header", ["bytes=10-", "bytes=10-20", "bytes=-0"])
async def test_a_range_past_the_end_is_416(
    store: MediaStore, http: httpx.AsyncClient, range_header: str
) -> None:
    data = b"0123456789"
    assert (await put(http, await presign(store, len(data)), data)).status_code == 200
    playback = await store.presign_download(
        KEY, expires_in=MINUTES, content_type=CONTENT_TYPE, filename="a.webm"
    )
    response = await http.get(playback.url, headers={"Range": range_header})
    assert_problem(response, 416, "MEDIA_RANGE_NOT_SATISFIABLE")
    assert response.headers["Content-Range"] == "bytes */10"


async def test_playback_names_the_file_safely_and_keeps_the_signed_type(
    store: MediaStore, http: httpx.AsyncClient
) -> None:
    assert (await put(http, await presign(store, 4), b"abcd")).status_code == 200
    playback = await store.presign_download(
        KEY, expires_in=MINUTES, content_type="audio/ogg", filename='Réponse "jour 4"\r\n.ogg'
    )
    response = await http.get(playback.url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "audio/ogg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == (
        'inline; filename="R_ponse _jour 4___.ogg"; '
        "filename*=UTF-8''R%C3%A9ponse%20%22jour%204%22%0D%0A.ogg"
    )


async def test_playback_of_a_deleted_object_is_404(
    store: MediaStore, http: httpx.AsyncClient
) -> None:
    assert (await put(http, await presign(store, 4), b"abcd")).status_code == 200
    playback = await store.presign_download(
        KEY, expires_in=MINUTES, content_type=CONTENT_TYPE, filename="a.webm"
    )
    await store.delete(KEY)
    assert_problem(await http.get(playback.url), 404, "MEDIA_NOT_FOUND")


async def test_with_s3_configured_the_local_routes_answer_404(
    s3_storage: StorageSettings,
    store: MediaStore,
    database_url: str,
    idp: IdentityProvider,
    database: Database,
) -> None:
    signed = await presign(store, 4)
    playback = await store.presign_download(
        KEY, expires_in=MINUTES, content_type=CONTENT_TYPE, filename="a.webm"
    )
    app = create_app(
        make_settings(database_url, idp.jwks_url, storage=s3_storage), database=database
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=PROBLEM
        ) as client,
    ):
        path = signed.url.split("://", 1)[1].split("/", 1)[1]
        response = await client.put(f"/{path}", content=b"abcd", headers=signed.headers)
        assert_problem(response, 404, "MEDIA_NOT_FOUND")
        path = playback.url.split("://", 1)[1].split("/", 1)[1]
        assert_problem(await client.get(f"/{path}"), 404, "MEDIA_NOT_FOUND")
