"""Object storage for tests: a real S3 protocol server (moto's server mode on 127.0.0.1, one
per test process, a fresh bucket per test) and the local store in the test's own folder.

Fixtures (import the ones a test package uses into its conftest.py):
- `s3_endpoint`: the moto server's base URL (session-wide).
- `s3_storage`: StorageSettings for a new empty bucket on it.
- `local_storage`: StorageSettings for a local store under tmp_path.
- `storage_settings`: parametrised over both, ids `local` and `s3`.
- `media_store`: a MediaStore for `storage_settings` whose signed URLs work over real HTTP:
  the local store is the one of a Tenon app served by uvicorn on 127.0.0.1 (the app's own
  store, so its routes answer the URLs it signs); the S3 store talks to the moto server.
- `served_local_store(...)`: that served app as a context manager, for tests that need its
  settings too.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aioboto3
import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from app.assembly import build_media_store
from app.core.db import Database
from app.core.settings import Settings, StorageSettings
from app.main import create_app
from app.media.store import MediaStore
from tests.support.app import make_settings
from tests.support.emulator import free_port, serving
from tests.support.identity import IdentityProvider

# moto accepts any credentials; these only have to be present.
S3_ACCESS_KEY_ID = "moto-test-access-key"
S3_SECRET_ACCESS_KEY = "moto-test-secret-key"
S3_REGION = "us-east-1"


def s3_settings(endpoint: str, bucket: str, **overrides: Any) -> StorageSettings:
    """Storage settings for `bucket` on the S3 server at `endpoint`."""
    fields: dict[str, Any] = {
        "url": f"s3://{bucket}",
        "endpoint_url": endpoint,
        "region": S3_REGION,
        "access_key_id": S3_ACCESS_KEY_ID,
        "secret_access_key": SecretStr(S3_SECRET_ACCESS_KEY),
        "path_style": True,
    }
    return StorageSettings(_env_file=None, **(fields | overrides))


def local_settings(directory: Path) -> StorageSettings:
    return StorageSettings(_env_file=None, local_dir=directory)


async def create_bucket(endpoint: str, bucket: str) -> None:
    session = aioboto3.Session(
        aws_access_key_id=S3_ACCESS_KEY_ID,
        aws_secret_access_key=S3_SECRET_ACCESS_KEY,
        region_name=S3_REGION,
    )
    async with session.client("s3", endpoint_url=endpoint) as s3:
        await s3.create_bucket(Bucket=bucket)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
async def s3_storage(s3_endpoint: str) -> StorageSettings:
    bucket = f"tenon-test-{uuid.uuid4().hex[:12]}"
    await create_bucket(s3_endpoint, bucket)
    return s3_settings(s3_endpoint, bucket)


@pytest.fixture
def local_storage(tmp_path: Path) -> StorageSettings:
    return local_settings(tmp_path / "media")


@pytest.fixture(params=["local", "s3"])
def storage_settings(request: pytest.FixtureRequest) -> StorageSettings:
    settings: StorageSettings = request.getfixturevalue(f"{request.param}_storage")
    return settings


@asynccontextmanager
async def served_local_store(
    storage: StorageSettings, database_url: str, jwks_url: str, database: Database
) -> AsyncIterator[tuple[Settings, MediaStore]]:
    """Tenon served by uvicorn on a free port of 127.0.0.1 with this local storage: its
    settings and its own store, whose signed URLs point at it."""
    port = free_port()
    settings = make_settings(
        database_url,
        jwks_url,
        app={"public_api_url": f"http://127.0.0.1:{port}"},
        storage=storage,
    )
    app = create_app(settings, database=database)
    async with serving(app, port):
        yield settings, app.state.services.media


@pytest.fixture
async def media_store(
    storage_settings: StorageSettings,
    database_url: str,
    idp: IdentityProvider,
    database: Database,
) -> AsyncIterator[MediaStore]:
    if storage_settings.url is not None:
        yield build_media_store(make_settings(database_url, idp.jwks_url, storage=storage_settings))
        return
    async with served_local_store(storage_settings, database_url, idp.jwks_url, database) as (
        _,
        store,
    ):
        yield store
