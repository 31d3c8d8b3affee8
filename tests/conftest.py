"""Test harness: one real PostgreSQL database per test process, schema built by
`alembic upgrade head`, each test inside a transaction that is rolled back at the end.

`TENON_TEST_DATABASE_URL` names a server to use (its role must be allowed to create
databases); without it the first process (pytest-xdist's controller, or the only process)
starts an embedded PostgreSQL in a temporary folder and hands its URL to the workers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from io import StringIO
from pathlib import Path

import httpx
import pytest
import structlog
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.db import Database, async_url
from app.core.embedded_postgres import EmbeddedPostgres
from app.core.logging import configure_logging
from app.core.migrations import upgrade_to_head
from app.core.settings import DatabaseSettings, Settings
from tests.support.app import client_for, make_settings, running_app
from tests.support.identity import IdentityProvider
from tests.support.jobs import reset_queue
from tests.support.recruiting import World, recruiting_world


async def _admin_execute(server_url: str, *statements: str) -> None:
    engine = create_async_engine(async_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


TEST_SERVER_ENV = "TENON_TEST_DATABASE_URL"


def pytest_configure(config: pytest.Config) -> None:
    # xdist workers inherit the environment the controller had when it started them, so
    # an embedded server started here is shared by every worker of the run.
    if os.environ.get(TEST_SERVER_ENV):
        return
    scratch = Path(tempfile.mkdtemp(prefix="tenon-test-pg-"))
    embedded = EmbeddedPostgres(scratch)
    os.environ[TEST_SERVER_ENV] = embedded.start()

    def stop_embedded() -> None:
        embedded.stop()
        del os.environ[TEST_SERVER_ENV]
        shutil.rmtree(scratch, ignore_errors=True)

    config.add_cleanup(stop_embedded)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    server_url = os.environ[TEST_SERVER_ENV]
    name = f"tenon_test_{os.getpid()}"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    asyncio.run(_admin_execute(server_url, drop, f'CREATE DATABASE "{name}"'))
    url = async_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        yield url
    finally:
        asyncio.run(_admin_execute(server_url, drop))


@pytest.fixture
async def scratch_database_url(database_url: str) -> AsyncIterator[str]:
    """A fresh, empty database next to the test database, dropped afterwards."""
    name = f"tenon_scratch_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    await _admin_execute(database_url, f'CREATE DATABASE "{name}"')
    try:
        yield async_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin_execute(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
def database(engine: AsyncEngine, db_connection: AsyncConnection) -> Database:
    """The application's `Database`, bound to the test's rolled-back transaction."""
    sessionmaker = async_sessionmaker(
        bind=db_connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    return Database(engine, sessionmaker, sessionmaker, engine.url)


@pytest.fixture
async def db_session(database: Database) -> AsyncIterator[AsyncSession]:
    async with database.sessionmaker() as session:
        yield session


@pytest.fixture(scope="session")
def identity_provider() -> Iterator[IdentityProvider]:
    with IdentityProvider().serving() as provider:
        yield provider


@pytest.fixture
def idp(identity_provider: IdentityProvider) -> IdentityProvider:
    """The test Auth0 tenant, reset to one published key and healthy for each test."""
    identity_provider.reset()
    return identity_provider


@pytest.fixture
def settings(database_url: str, idp: IdentityProvider) -> Settings:
    return make_settings(database_url, idp.jwks_url)


@pytest.fixture
async def app(settings: Settings, database: Database) -> AsyncIterator[FastAPI]:
    async with running_app(settings, database) as app:
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


@pytest.fixture(scope="session")
def jobs_database_url(database_url: str) -> Iterator[str]:
    """A migrated database of its own for tests that need committed rows."""
    name = f"tenon_jobs_{os.getpid()}"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    asyncio.run(_admin_execute(database_url, drop, f'CREATE DATABASE "{name}"'))
    url = async_url(database_url).set(database=name).render_as_string(hide_password=False)
    upgrade_to_head(url)
    try:
        yield url
    finally:
        asyncio.run(_admin_execute(database_url, drop))


@pytest.fixture
async def jobs_db(jobs_database_url: str) -> AsyncIterator[Database]:
    database = Database.connect(jobs_database_url, DatabaseSettings(_env_file=None))
    await reset_queue(database)
    yield database
    await database.dispose()


@pytest.fixture
def log_stream() -> Iterator[StringIO]:
    """Logging configured for real, into a buffer; the previous root handlers come back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = StringIO()
    configure_logging(json=True, level="INFO", stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


@pytest.fixture
async def world(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> World:
    """Two companies' recruiters and a candidate, for the simulation, invite and submission
    tests over HTTP."""
    return await recruiting_world(client, idp, db_session)
