from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.core.settings import StorageSettings
from tests.support.identity import IdentityProvider
from tests.support.media import (  # noqa: F401 (fixtures)
    local_storage,
    s3_endpoint,
    s3_storage,
    storage_settings,
)
from tests.support.recordings import Stage, staged


@pytest.fixture
async def stage(
    storage_settings: StorageSettings,  # noqa: F811
    database_url: str,
    idp: IdentityProvider,
    database: Database,
    db_session: AsyncSession,
) -> AsyncIterator[Stage]:
    """The app served with each store in turn (local, then S3 on moto)."""
    async with staged(storage_settings, database_url, idp, database, db_session) as stage:
        yield stage
