"""What only the S3 store does: signed headers in its presigned PUT, the key prefix of a
shared bucket, and failures of the store as `MediaStoreError`s that carry no secret."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aioboto3
import httpx
import pytest

from app.core.settings import StorageSettings
from app.media.s3 import S3MediaStore
from app.media.store import MediaStoreError, UploadedPart
from tests.support.emulator import free_port
from tests.support.media import (
    S3_ACCESS_KEY_ID,
    S3_REGION,
    S3_SECRET_ACCESS_KEY,
    create_bucket,
    s3_settings,
)

KEY = "recordings/3/answer.webm"
MINUTES = timedelta(minutes=5)


async def test_a_presigned_put_signs_its_content_type_and_length(
    s3_storage: StorageSettings,
) -> None:
    store = S3MediaStore(s3_storage)
    signed = await store.presign_upload(
        KEY, content_type="video/webm", size=1234, expires_in=MINUTES
    )
    query = parse_qs(urlsplit(signed.url).query)
    assert query["X-Amz-SignedHeaders"] == ["content-length;content-type;host"]
    assert query["X-Amz-Expires"] == ["300"]
    assert signed.headers == {"Content-Type": "video/webm"}
    assert S3_SECRET_ACCESS_KEY not in signed.url


async def test_a_key_prefix_keeps_objects_under_it(s3_endpoint: str) -> None:
    await create_bucket(s3_endpoint, "tenon-shared")
    store = S3MediaStore(s3_settings(s3_endpoint, "tenon-shared", url="s3://tenon-shared/eu/"))
    signed = await store.presign_upload(KEY, content_type="video/webm", size=3, expires_in=MINUTES)
    async with httpx.AsyncClient() as http:
        response = await http.put(signed.url, content=b"abc", headers=signed.headers)
    assert response.status_code == 200
    session = aioboto3.Session(
        aws_access_key_id=S3_ACCESS_KEY_ID,
        aws_secret_access_key=S3_SECRET_ACCESS_KEY,
        region_name=S3_REGION,
    )
    async with session.client("s3", endpoint_url=s3_endpoint) as s3:
        listed = await s3.list_objects_v2(Bucket="tenon-shared")
    assert [item["Key"] for item in listed["Contents"]] == [f"eu/{KEY}"]
    stored = await store.stat(KEY)
    assert stored is not None
    assert stored.size == 3


async def test_a_missing_bucket_is_a_store_error_naming_the_s3_code(s3_endpoint: str) -> None:
    store = S3MediaStore(s3_settings(s3_endpoint, "tenon-no-such-bucket"))
    with pytest.raises(MediaStoreError, match="create_multipart_upload failed: NoSuchBucket"):
        await store.start_multipart(KEY, content_type="video/webm")
    with pytest.raises(MediaStoreError, match="delete_object failed: NoSuchBucket"):
        await store.delete(KEY)


async def test_aborting_an_unknown_upload_is_no_error(s3_storage: StorageSettings) -> None:
    await S3MediaStore(s3_storage).abort_multipart(KEY, "no-such-upload")


async def test_an_unreachable_store_fails_every_call_with_a_store_error(tmp_path: Path) -> None:
    store = S3MediaStore(s3_settings(f"http://127.0.0.1:{free_port()}", "tenon-nowhere"))
    calls = [
        store.stat(KEY),
        store.start_multipart(KEY, content_type="video/webm"),
        store.complete_multipart(KEY, "upload", [UploadedPart(1, '"x"')]),
        store.abort_multipart(KEY, "upload"),
        store.read_prefix(KEY, 16),
        store.download(KEY, tmp_path / "copy"),
        store.delete(KEY),
    ]
    for call in calls:
        with pytest.raises(MediaStoreError) as caught:
            await call
        assert S3_SECRET_ACCESS_KEY not in str(caught.value)
        assert "EndpointConnectionError" in str(caught.value)
    # Presigning needs no network.
    signed = await store.presign_part(KEY, "upload", 1, expires_in=MINUTES)
    assert signed.method == "PUT"
